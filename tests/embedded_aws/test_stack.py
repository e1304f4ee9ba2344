"""The deployment harness: a fixture SAM app deployed to the embedded AWS and invoked in-process."""

from __future__ import annotations

import json
import logging
import os
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from embedded_aws import embedded_aws
from embedded_aws.server import start_server
from stack_harness import (
    BuildError,
    DeployedStack,
    LayerNotDeclaredError,
    StackDeploymentError,
    StackError,
    deploy_stack,
)

FIXTURE = Path(__file__).parent / "fixtures" / "sam_app"
TEMPLATE = FIXTURE / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION = "NotifierFunction"


@pytest.fixture
def aws() -> Iterator[None]:
    with embedded_aws():
        yield


@pytest.fixture
def stack(aws: None) -> DeployedStack:
    return deploy_stack(TEMPLATE, stack_name="fixture", parameters={"Environment": "prod"})


def copy_fixture(tmp_path: Path) -> Path:
    """A copy of the fixture app to edit; returns its template."""
    target = tmp_path / "sam_app"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    return target / "template.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1))


def fake_sam_build(template: Path) -> Path:
    """What `sam build` leaves for the fixture: code copied per resource, template pointing at it."""
    build = template.parent / ".aws-sam" / "build"
    shutil.copytree(template.parent / "functions" / "notifier", build / FUNCTION)
    shutil.copytree(
        template.parent / "layer" / "fixture_shared", build / "GovernanceLayer" / "python" / "fixture_shared"
    )
    text = template.read_text()
    text = text.replace("CodeUri: functions/notifier/", "CodeUri: NotifierFunction")
    text = text.replace("ContentUri: layer/", "ContentUri: GovernanceLayer")
    text = text.replace(
        "      BuildMethod: makefile\n", "      BuildMethod: makefile\n      SamResourceId: GovernanceLayer\n"
    )
    (build / "template.yaml").write_text(text)
    return build


def subscribe_queue(topic_arn: str) -> str:
    """An SQS queue subscribed to the topic: how a test sees what was published."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url: str = sqs.create_queue(QueueName="published")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def received(queue_url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


def test_function_environment_comes_from_the_stack(stack: DeployedStack) -> None:
    environment = stack.function_environment(FUNCTION)

    assert environment["TOPIC_ARN"] == stack.resources["ReportTopic"] == stack.outputs["ReportTopicArn"]
    assert environment["TOPIC_ARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:fixture-reports"
    assert environment["BUCKET_NAME"] == stack.resources["ReportBucket"] == stack.outputs["ReportBucketName"]
    assert environment["ENVIRONMENT"] == "prod"  # from the parameter, through Globals
    assert environment["POWERTOOLS_SERVICE_NAME"] == "fixture"
    # A Number parameter: CloudFormation gives Lambda the string; moto's CloudFormation a number.
    assert environment["LOG_RETENTION_DAYS"] == "14"
    assert any("LOG_RETENTION_DAYS" in note for note in stack.notes)


def test_invoke_publishes_with_the_stack_settings(stack: DeployedStack) -> None:
    queue_url = subscribe_queue(stack.outputs["ReportTopicArn"])
    event = stack.scheduled_event(FUNCTION)
    monday_morning_in_berlin = datetime(2024, 3, 4, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))

    result = stack.invoke(FUNCTION, event, now=monday_morning_in_berlin)

    assert event == {"source": "schedule", "scheduledTime": "<aws.scheduler.scheduled-time>"}
    assert result["scheduledTime"] == "2024-03-04T07:00:00Z"
    config = stack.function_config(FUNCTION)
    assert result["functionName"] == config.function_name
    assert result["service"] == "fixture"  # a module-level Powertools Logger saw the stack's variables
    assert result["region"] == REGION
    assert 0 < result["remainingMillis"] <= 30_000
    assert result["runtimeEnvironment"] == {
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "LAMBDA_TASK_ROOT": str(FIXTURE / "functions" / "notifier"),
    }
    [notification] = received(queue_url)
    assert notification["MessageId"] == result["messageId"]
    assert notification["Subject"] == "[prod] weekly report"
    report = boto3.client("s3", region_name=REGION).get_object(
        Bucket=stack.resources["ReportBucket"], Key="reports/2024-03-04T07:00:00Z.json"
    )
    assert json.loads(report["Body"].read())["scheduledTime"] == "2024-03-04T07:00:00Z"
    assert json.loads(notification["Message"]) == {
        "scheduledTime": "2024-03-04T07:00:00Z",
        "bucket": stack.resources["ReportBucket"],
    }


def test_invoke_shows_only_the_stack_environment_and_restores_the_caller_s(
    stack: DeployedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "set-by-the-test")
    monkeypatch.setenv("SETTING_THE_TEMPLATE_FORGOT", "1")
    before = dict(os.environ)

    result = stack.invoke(FUNCTION, {})

    assert result["service"] == "fixture"
    names = set(result["environmentNames"])
    assert "SETTING_THE_TEMPLATE_FORGOT" not in names
    assert set(stack.function_environment(FUNCTION)) <= names
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER"} <= names
    assert dict(os.environ) == before


def test_handler_exceptions_propagate_and_the_environment_is_restored(stack: DeployedStack) -> None:
    before = dict(os.environ)

    with pytest.raises(RuntimeError, match="asked to fail"):
        stack.invoke(FUNCTION, {"fail": True})

    assert dict(os.environ) == before


def test_each_invoke_imports_the_handler_afresh(stack: DeployedStack) -> None:
    first = stack.invoke(FUNCTION, {})
    lam = boto3.client("lambda", region_name=REGION)
    variables = stack.function_environment(FUNCTION) | {"POWERTOOLS_SERVICE_NAME": "renamed"}
    lam.update_function_configuration(
        FunctionName=stack.function_config(FUNCTION).function_name, Environment={"Variables": variables}
    )

    second = stack.invoke(FUNCTION, {})

    assert (first["service"], second["service"]) == ("fixture", "renamed")


def test_the_harness_resolves_intrinsics_as_moto_s_cloudformation_does(aws: None, tmp_path: Path) -> None:
    # deploy_stack compares its own resolution of each function's Environment with moto's and
    # refuses to go on when they differ; these are the forms the harness resolves for the
    # resources it creates itself.
    template = copy_fixture(tmp_path)
    edit(
        template,
        "Conditions:\n",
        "Mappings:\n  Sizes:\n    dev: {Memory: small}\n    prod: {Memory: large}\n\nConditions:\n",
    )
    edit(
        template,
        "          BUCKET_NAME: !Ref ReportBucket\n",
        "          BUCKET_NAME: !Ref ReportBucket\n"
        '          JOINED: !Join ["-", [!Ref Environment, !Select [1, !Split [",", "a,b,c"]]]]\n'
        "          CHOSEN: !If [HasAlarmEmail, with-mail, without-mail]\n"
        "          MAPPED: !FindInMap [Sizes, !Ref Environment, Memory]\n"
        '          SUBBED: !Sub ["${Name}-${AWS::Region}-${ReportBucket.Arn}", {Name: !Ref Environment}]\n',
    )

    stack = deploy_stack(template, stack_name="fixture", parameters={"Environment": "prod"})

    environment = stack.function_environment(FUNCTION)
    assert environment["JOINED"] == "prod-b"
    assert environment["CHOSEN"] == "without-mail"
    assert environment["MAPPED"] == "large"
    assert environment["SUBBED"] == f"prod-{REGION}-arn:aws:s3:::{stack.resources['ReportBucket']}"


def test_function_config_is_what_the_template_declares(stack: DeployedStack) -> None:
    config = stack.function_config(FUNCTION)
    layer_arn = stack.outputs["GovernanceLayerArn"]

    assert (config.handler, config.runtime, config.timeout, config.memory_size) == (
        "app.lambda_handler",
        "python3.13",
        30,
        256,
    )
    assert config.architectures == ("arm64",)  # moto's Lambda would say x86_64
    assert config.layers == (layer_arn,)
    assert config.role_arn == f"arn:aws:iam::{ACCOUNT}:role/{stack.resources['NotifierFunctionRole']}"
    lam = boto3.client("lambda", region_name=REGION)
    assert [layer["Arn"] for layer in lam.get_function_configuration(FunctionName=config.function_name)["Layers"]] == [
        layer_arn
    ]
    [version] = lam.list_layer_versions(LayerName="GovernanceLayer")["LayerVersions"]
    assert version["LayerVersionArn"] == layer_arn
    assert version["CompatibleArchitectures"] == ["arm64"]


def test_role_policies_are_the_declared_statements(stack: DeployedStack) -> None:
    policies = stack.role_policy_documents(FUNCTION)

    statements = {
        statement.get("Sid", policy.name): statement for policy in policies for statement in policy.statements
    }
    assert statements["Publish"]["Action"] == "sns:Publish"
    assert statements["Publish"]["Resource"] == stack.resources["ReportTopic"]
    assert statements["WriteReports"]["Resource"] == f"arn:aws:s3:::{stack.resources['ReportBucket']}/reports/*"
    [managed] = [policy for policy in policies if policy.kind == "managed"]
    assert managed.arn == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert {"logs:CreateLogStream", "logs:PutLogEvents"} <= set(managed.statements[0]["Action"])


def test_resources_moto_cannot_create_are_created_through_the_apis_and_reported(
    aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="stack_harness"):
        stack = deploy_stack(TEMPLATE, stack_name="fixture", parameters={})

    unsupported = {resource.logical_id: resource for resource in stack.unsupported_resources}
    layer_id = next(lid for lid in unsupported if lid.startswith("GovernanceLayer"))
    assert {lid: resource.resource_type for lid, resource in unsupported.items()} == {
        layer_id: "AWS::Lambda::LayerVersion",
        "ReportTopicPolicy": "AWS::SNS::TopicPolicy",
        "ReportBucketPolicy": "AWS::S3::BucketPolicy",
        "NotifierErrorsAlarm": "AWS::CloudWatch::Alarm",
        "NotifierFunctionEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
        "NotifierFunctionWeekly": "AWS::Scheduler::Schedule",
    }
    assert [lid for lid, resource in unsupported.items() if not resource.created] == ["ReportBucketPolicy"]
    assert "without their Condition" in unsupported["ReportBucketPolicy"].handling
    assert unsupported["ReportBucketPolicy"].properties["Bucket"] == stack.resources["ReportBucket"]
    [line] = [record.getMessage() for record in caplog.records if "cannot create" in record.getMessage()]
    assert all(lid in line for lid in unsupported)
    assert any("AlarmSubscription" in note and "Condition is false" in note for note in stack.notes)

    config = stack.function_config(FUNCTION)
    schedule = boto3.client("scheduler", region_name=REGION).get_schedule(
        Name=unsupported["NotifierFunctionWeekly"].physical_id
    )
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["Target"]["Arn"] == config.function_arn
    assert schedule["Target"]["RoleArn"].endswith(f"/{stack.resources['NotifierFunctionWeeklyRole']}")
    topic_policy = json.loads(
        boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=stack.resources["ReportTopic"])[
            "Attributes"
        ]["Policy"]
    )
    assert topic_policy["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    [alarm] = boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": config.function_name}]
    assert alarm["AlarmActions"] == [stack.resources["ReportTopic"]]
    invoke_config = boto3.client("lambda", region_name=REGION).get_function_event_invoke_config(
        FunctionName=config.function_name, Qualifier="$LATEST"
    )
    assert invoke_config["MaximumRetryAttempts"] == 0
    assert stack.outputs["WeeklyScheduleName"] == "NotifierFunctionWeekly"  # an output moto could not resolve


def test_a_bucket_policy_moto_enforces_faithfully_is_created(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    edit(
        template,
        '            Effect: Deny\n            Principal: "*"',
        '            Effect: Allow\n            Principal: "*"',
    )
    edit(template, '            Condition:\n              Bool: { "aws:SecureTransport": "false" }\n', "")

    stack = deploy_stack(template, stack_name="fixture", parameters={})

    [policy] = [resource for resource in stack.unsupported_resources if resource.logical_id == "ReportBucketPolicy"]
    assert policy.created
    stored = boto3.client("s3", region_name=REGION).get_bucket_policy(Bucket=stack.resources["ReportBucket"])
    assert json.loads(stored["Policy"])["Statement"][0]["Sid"] == "DenyInsecureTransport"


def test_a_conditional_resource_is_created_when_its_condition_holds(aws: None) -> None:
    stack = deploy_stack(TEMPLATE, stack_name="fixture", parameters={"AlarmEmail": "ops@example.com"})

    [subscription] = [
        resource for resource in stack.unsupported_resources if resource.logical_id == "AlarmSubscription"
    ]
    sns = boto3.client("sns", region_name=REGION)
    endpoints = {
        s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=stack.resources["ReportTopic"])["Subscriptions"]
    }
    assert subscription.properties["Endpoint"] == "ops@example.com"
    assert "ops@example.com" in endpoints


def test_a_type_nobody_can_create_is_recorded_with_its_properties(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    edit(
        template,
        "  NotifierLogGroup:",
        "  ErrorCount:\n"
        "    Type: AWS::Logs::MetricFilter\n"
        "    Properties:\n"
        "      LogGroupName: !Ref NotifierLogGroup\n"
        "      FilterPattern: ERROR\n"
        "      MetricTransformations: [{MetricName: Errors, MetricNamespace: Fixture, MetricValue: '1'}]\n"
        "\n  NotifierLogGroup:",
    )

    stack = deploy_stack(template, stack_name="fixture", parameters={})

    [recorded] = [resource for resource in stack.unsupported_resources if resource.logical_id == "ErrorCount"]
    assert recorded.physical_id is None
    assert recorded.resource_type == "AWS::Logs::MetricFilter"
    assert recorded.properties["LogGroupName"] == stack.resources["NotifierLogGroup"]
    assert recorded.handling.startswith("recorded only")


def test_a_stack_resource_referring_to_an_uncreatable_one_is_refused(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    edit(template, "          BUCKET_NAME: !Ref ReportBucket", "          ALARM: !Ref NotifierErrorsAlarm")

    with pytest.raises(StackError, match=r"NotifierFunction refers to \['NotifierErrorsAlarm'\]"):
        deploy_stack(template, stack_name="fixture", parameters={})


def test_a_function_without_the_layer_is_refused(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    edit(template, "    Layers:\n      - !Ref GovernanceLayer\n", "")
    stack = deploy_stack(template, stack_name="fixture", parameters={})

    with pytest.raises(LayerNotDeclaredError, match="GovernanceLayer"):
        stack.invoke(FUNCTION, {})


def test_a_missing_build_says_to_run_make_build(aws: None, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"make build"):
        deploy_stack(TEMPLATE, stack_name="fixture", parameters={}, build_dir=tmp_path / "nothing")


def test_the_built_code_is_what_runs(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    build = fake_sam_build(template)

    stack = deploy_stack(template, stack_name="fixture", parameters={}, build_dir=build)
    result = stack.invoke(FUNCTION, {})

    assert stack.function_config(FUNCTION).code_dir == build / FUNCTION
    assert result["runtimeEnvironment"]["LAMBDA_TASK_ROOT"] == str(build / FUNCTION)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            lambda build: (build / "GovernanceLayer/python/fixture_shared/__init__.py").write_text("changed = True\n"),
            "not byte-identical",
            id="layer package changed",
        ),
        pytest.param(
            lambda build: (build / "GovernanceLayer/python/fixture_shared/extra.py").write_text(""),
            "not byte-identical",
            id="layer package has a file the source has not",
        ),
        pytest.param(lambda build: (build / FUNCTION / "app.py").unlink(), "Handler", id="handler missing"),
        pytest.param(
            lambda build: (build / FUNCTION / "app.py").write_text("def lambda_handler(event, context): ...\n"),
            "stale",
            id="handler changed",
        ),
        pytest.param(
            lambda build: (build.parent.parent / "template.yaml").write_text(
                (build.parent.parent / "template.yaml").read_text().replace("Timeout: 30", "Timeout: 60")
            ),
            "stale",
            id="template changed",
        ),
    ],
)
def test_a_stale_or_broken_build_is_refused(aws: None, tmp_path: Path, change: Any, message: str) -> None:
    template = copy_fixture(tmp_path)
    build = fake_sam_build(template)
    change(build)

    with pytest.raises(BuildError, match=message) as raised:
        deploy_stack(template, stack_name="fixture", parameters={}, build_dir=build)
    assert "make build" in str(raised.value)


def test_a_failing_resource_is_named(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    # moto's CloudFormation cannot create a parameter without a Name (CloudFormation makes one up).
    edit(
        template,
        "  NotifierLogGroup:",
        "  UnnamedParameter:\n"
        "    Type: AWS::SSM::Parameter\n"
        "    Properties: {Type: String, Value: x}\n"
        "\n  NotifierLogGroup:",
    )

    with pytest.raises(StackDeploymentError, match="UnnamedParameter") as raised:
        deploy_stack(template, stack_name="fixture", parameters={})
    assert raised.value.failed_resources == ("UnnamedParameter",)


def test_reserved_environment_variables_are_refused(aws: None, tmp_path: Path) -> None:
    template = copy_fixture(tmp_path)
    edit(
        template,
        "          BUCKET_NAME: !Ref ReportBucket",
        "          BUCKET_NAME: !Ref ReportBucket\n          AWS_REGION: eu-west-1",
    )

    with pytest.raises(StackError, match=r"reserved environment variables \['AWS_REGION'\]"):
        deploy_stack(template, stack_name="fixture", parameters={})


@pytest.mark.parametrize(
    ("parameters", "message"),
    [({"Stage": "prod"}, r"\['Stage'\] do not exist"), ({"Environment": "qa"}, "is not one of")],
)
def test_parameters_are_checked_like_cloudformation_does(aws: None, parameters: dict[str, str], message: str) -> None:
    with pytest.raises(StackError, match=message):
        deploy_stack(TEMPLATE, stack_name="fixture", parameters=parameters)


def test_it_refuses_to_deploy_to_real_aws() -> None:
    with pytest.raises(StackError, match="only to the embedded AWS"):
        deploy_stack(TEMPLATE, stack_name="fixture", parameters={})


def test_the_same_against_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_server() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        try:
            stack = deploy_stack(TEMPLATE, stack_name="served", parameters={"Environment": "prod"})
            queue_url = subscribe_queue(stack.outputs["ReportTopicArn"])

            result = stack.invoke(FUNCTION, stack.scheduled_event(FUNCTION), now=datetime(2024, 3, 4, 7, tzinfo=UTC))

            [notification] = received(queue_url)
            assert notification["MessageId"] == result["messageId"]
            assert stack.function_environment(FUNCTION)["TOPIC_ARN"] == stack.outputs["ReportTopicArn"]
            assert len(stack.unsupported_resources) == 6
        finally:
            # The server shares moto's state with this process: leave none behind.
            reset = f"{server.endpoint_url}/moto-api/reset"
            with urllib.request.urlopen(urllib.request.Request(reset, method="POST"), timeout=10):  # noqa: S310 - loopback
                pass

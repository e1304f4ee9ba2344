"""What the harness creates itself, through each service's own API, because moto's CloudFormation
cannot (or, for layers, creates them wrongly); and which types moto's CloudFormation does create."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from stack_harness.aws import Aws


class Deployment(Protocol):
    """What a creator needs of the deployment it creates a resource for."""

    @property
    def aws(self) -> Aws: ...

    def generated_name(self, lid: str) -> str: ...

    def note(self, message: str) -> None: ...

    def invoke_custom_resource(self, lid: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Send CloudFormation's Create request to the resource's ServiceToken function; its answer."""
        ...


@dataclass(frozen=True)
class Created:
    """A resource the harness created: its physical id, the attributes Fn::GetAtt reads, the call that made it."""

    physical_id: str
    attributes: dict[str, str]
    via: str


Creator = Callable[["Deployment", str, dict[str, Any]], Created]


def _pick(properties: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def _create_layer_version(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    # moto's CloudFormation publishes layers under a generated name and its Ref yields no ARN.
    params = {"LayerName": p.get("LayerName") or d.generated_name(lid)} | _pick(
        p, "Description", "Content", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"
    )
    arn: str = d.aws.call("lambda", "PublishLayerVersion", params)["LayerVersionArn"]
    return Created(arn, {}, "lambda.publish_layer_version")


def _create_schedule(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = {"Name": d.generated_name(lid)} | p
    arn: str = d.aws.call("scheduler", "CreateSchedule", params)["ScheduleArn"]
    return Created(params["Name"], {"Arn": arn}, "scheduler.create_schedule")


def _create_schedule_group(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = {"Name": d.generated_name(lid)} | p
    arn: str = d.aws.call("scheduler", "CreateScheduleGroup", params)["ScheduleGroupArn"]
    return Created(params["Name"], {"Arn": arn}, "scheduler.create_schedule_group")


def _create_topic_policy(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    for topic in p["Topics"]:
        d.aws.call(
            "sns",
            "SetTopicAttributes",
            {"TopicArn": topic, "AttributeName": "Policy", "AttributeValue": p["PolicyDocument"]},
        )
    return Created(d.generated_name(lid), {}, "sns.set_topic_attributes(Policy)")


def _create_subscription(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    attributes = _pick(
        p,
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "ReplayPolicy",
        "SubscriptionRoleArn",
    )
    params = _pick(p, "TopicArn", "Protocol", "Endpoint") | {"Attributes": attributes, "ReturnSubscriptionArn": True}
    arn: str = d.aws.call("sns", "Subscribe", params)["SubscriptionArn"]
    return Created(arn, {}, "sns.subscribe")


class Declined(Exception):
    """The embedded AWS would hold the resource but act on it unlike AWS: better not to create it."""


def _create_bucket_policy(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    statements = p["PolicyDocument"].get("Statement", [])
    if any("Condition" in statement for statement in ([statements] if isinstance(statements, dict) else statements)):
        # moto's S3 enforces bucket policies but ignores their conditions: a Deny that AWS applies
        # only to plain HTTP, say, would refuse every request.
        raise Declined("moto's S3 would enforce its statements without their Condition")
    d.aws.call("s3", "PutBucketPolicy", {"Bucket": p["Bucket"], "Policy": p["PolicyDocument"]})
    return Created(p["Bucket"], {}, "s3.put_bucket_policy")


def _create_queue_policy(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    for queue_url in p["Queues"]:
        d.aws.call("sqs", "SetQueueAttributes", {"QueueUrl": queue_url, "Attributes": {"Policy": p["PolicyDocument"]}})
    return Created(d.generated_name(lid), {}, "sqs.set_queue_attributes(Policy)")


def _create_alarm(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = {"AlarmName": d.generated_name(lid)} | p
    d.aws.call("cloudwatch", "PutMetricAlarm", params)
    alarms = d.aws.client("cloudwatch").describe_alarms(AlarmNames=[params["AlarmName"]])["MetricAlarms"]
    return Created(params["AlarmName"], {"Arn": alarms[0]["AlarmArn"]}, "cloudwatch.put_metric_alarm")


def _create_event_invoke_config(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    d.aws.call("lambda", "PutFunctionEventInvokeConfig", p)
    return Created(
        f"{p['FunctionName']}:{p.get('Qualifier', '$LATEST')}", {}, "lambda.put_function_event_invoke_config"
    )


def _create_alias(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = _pick(p, "FunctionName", "Name", "FunctionVersion", "Description")
    if "RoutingConfig" in p:
        # CloudFormation lists weights; the API takes a map of version -> weight.
        weights = p["RoutingConfig"].get("AdditionalVersionWeights", [])
        params["RoutingConfig"] = {
            "AdditionalVersionWeights": {item["FunctionVersion"]: item["FunctionWeight"] for item in weights}
        }
    if "ProvisionedConcurrencyConfig" in p:
        d.note(f"{lid}: ProvisionedConcurrencyConfig is not applied (no such setting in moto)")
    arn: str = d.aws.call("lambda", "CreateAlias", params)["AliasArn"]
    return Created(arn, {}, "lambda.create_alias")


def _create_function_url(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = {"FunctionName": p["TargetFunctionArn"]} | _pick(p, "Qualifier", "AuthType", "Cors", "InvokeMode")
    response = d.aws.call("lambda", "CreateFunctionUrlConfig", params)
    return Created(
        response["FunctionArn"],
        {"FunctionArn": response["FunctionArn"], "FunctionUrl": response["FunctionUrl"]},
        "lambda.create_function_url_config",
    )


def _create_budget(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    budget = {"BudgetName": d.generated_name(lid)} | p["Budget"]
    params = {"AccountId": d.aws.account, "Budget": budget} | _pick(p, "NotificationsWithSubscribers", "ResourceTags")
    d.aws.call("budgets", "CreateBudget", params)
    return Created(budget["BudgetName"], {}, "budgets.create_budget")


def state_machine_settings(p: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateStateMachine's parameters for what moto's CloudFormation ignores of a state machine:
    DefinitionSubstitutions (CloudFormation replaces each ``${Key}``), logging and tracing."""
    definition = str(p["DefinitionString"])
    for key, value in (p.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    params: dict[str, Any] = {"definition": definition}
    logging_config = p.get("LoggingConfiguration")
    if logging_config:
        params["loggingConfiguration"] = {
            "level": logging_config.get("Level", "OFF"),
            "includeExecutionData": bool(logging_config.get("IncludeExecutionData", False)),
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": item["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
                for item in logging_config.get("Destinations", [])
            ],
        }
    if "TracingConfiguration" in p:
        params["tracingConfiguration"] = {"enabled": bool(p["TracingConfiguration"].get("Enabled", False))}
    return params


def _create_state_machine(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    # Through the API: moto's CloudFormation puts state machines where its executing Step
    # Functions does not look, and ignores DefinitionSubstitutions, logging and tracing.
    params = {
        "name": p.get("StateMachineName") or d.generated_name(lid),
        "roleArn": p["RoleArn"],
        "type": p.get("StateMachineType", "STANDARD"),
    } | state_machine_settings(p)
    if p.get("Tags"):
        params["tags"] = [{"key": tag["Key"], "value": tag["Value"]} for tag in p["Tags"]]
    arn: str = d.aws.call("stepfunctions", "CreateStateMachine", params)["stateMachineArn"]
    return Created(arn, {"Arn": arn, "Name": params["name"]}, "stepfunctions.create_state_machine")


def predicted_state_machine(d: Deployment, p: Mapping[str, Any]) -> Created:
    """A named state machine's ARN before it exists (it is made of the name), so that the stack's
    own resources (a schedule's role) can refer to it while it is created after them."""
    name = str(p["StateMachineName"])
    arn = f"arn:{d.aws.partition}:states:{d.aws.region}:{d.aws.account}:stateMachine:{name}"
    return Created(arn, {"Arn": arn, "Name": name}, "predicted from StateMachineName")


def _create_stack_set(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    params = {"StackSetName": p.get("StackSetName") or d.generated_name(lid)} | _pick(
        p,
        "Description",
        "TemplateBody",
        "TemplateURL",
        "Parameters",
        "Capabilities",
        "PermissionModel",
        "AutoDeployment",
        "CallAs",
        "ManagedExecution",
        "Tags",
    )
    stack_set_id: str = d.aws.call("cloudformation", "CreateStackSet", params)["StackSetId"]
    for group in p.get("StackInstancesGroup", []):
        instances = (
            {"StackSetName": params["StackSetName"]}
            | _pick(group, "DeploymentTargets", "Regions", "ParameterOverrides")
            | _pick(p, "OperationPreferences", "CallAs")
        )
        d.aws.call("cloudformation", "CreateStackInstances", instances)
    return Created(stack_set_id, {"StackSetId": stack_set_id}, "cloudformation.create_stack_set")


def _create_custom_resource(d: Deployment, lid: str, p: dict[str, Any]) -> Created:
    answer = d.invoke_custom_resource(lid, p)
    if answer.get("Status") != "SUCCESS":
        raise ValueError(f"the custom resource answered {answer.get('Status')}: {answer.get('Reason', '')}")
    data = {str(key): str(value) for key, value in (answer.get("Data") or {}).items()}
    return Created(str(answer["PhysicalResourceId"]), data, f"custom resource ({p['ServiceToken']})")


# Types the harness creates through the service API, because moto's CloudFormation cannot (or, for
# layers, creates them wrongly).
CREATORS: Final[dict[str, Creator]] = {
    "AWS::Lambda::LayerVersion": _create_layer_version,
    "AWS::Scheduler::Schedule": _create_schedule,
    "AWS::Scheduler::ScheduleGroup": _create_schedule_group,
    "AWS::SNS::TopicPolicy": _create_topic_policy,
    "AWS::SNS::Subscription": _create_subscription,
    "AWS::S3::BucketPolicy": _create_bucket_policy,
    "AWS::SQS::QueuePolicy": _create_queue_policy,
    "AWS::CloudWatch::Alarm": _create_alarm,
    "AWS::Lambda::EventInvokeConfig": _create_event_invoke_config,
    "AWS::Lambda::Alias": _create_alias,
    "AWS::Lambda::Url": _create_function_url,
    "AWS::Budgets::Budget": _create_budget,
    "AWS::CloudFormation::StackSet": _create_stack_set,
    "AWS::StepFunctions::StateMachine": _create_state_machine,
    "AWS::CloudFormation::CustomResource": _create_custom_resource,
}


def creator_for(resource_type: str) -> Creator | None:
    """How the harness creates a resource type, or None when it does not (``Custom::Name`` is a custom resource)."""
    if resource_type.startswith("Custom::"):
        return _create_custom_resource
    return CREATORS.get(resource_type)


def moto_creates(resource_type: str) -> bool:
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map  # noqa: PLC0415 - moto is imported only when deploying

    # Custom resources would need their Lambda function to run; moto cannot run it.
    return (
        resource_type in get_model_map()
        and resource_type not in NULL_MODELS
        and resource_type not in CREATORS
        and not resource_type.startswith("Custom::")
    )

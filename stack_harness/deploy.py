"""The deployment: the expanded template created as a CloudFormation stack in the embedded AWS, in
CloudFormation's order as far as moto allows, with the intrinsic-function resolver it needs.

Harness-created resources (:mod:`stack_harness.resources`) that need nothing from the stack are
created before it, so the stack can refer to them, the others after it; what neither moto nor the
harness can create is recorded. Afterwards the harness applies what moto's CloudFormation ignores
(role policies, a function's Layers, Tags and string-only Environment) and reads back attributes.
"""

from __future__ import annotations

import copy
import graphlib
import json
import logging
import re
import secrets
import string
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import ClientError

from stack_harness.aws import Aws, refuse_real_aws
from stack_harness.code import LAYER_TYPES, Code, locate_code
from stack_harness.errors import StackDeploymentError, StackError
from stack_harness.invoke import RESERVED_ENVIRONMENT_KEYS, FunctionConfig, invoke_handler
from stack_harness.packaging import package_template
from stack_harness.resources import Created, Declined, creator_for, moto_creates, predicted_state_machine
from stack_harness.responses import response_url
from stack_harness.stack import DeployedStack, UnsupportedResource, handler_environment
from stack_harness.template import cfn_string, expand, load_template, parameter_values

log = logging.getLogger(__name__)

_CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_STACK_TIMEOUT_SECONDS: Final = 60.0
# Properties of AWS::Lambda::Function that moto's CloudFormation applies, or the harness does after.
_FUNCTION_PROPERTIES_APPLIED: Final = frozenset(
    {
        "Code",
        "FunctionName",
        "Handler",
        "Role",
        "Runtime",
        "Description",
        "MemorySize",
        "Publish",
        "Timeout",
        "VpcConfig",
        "Environment",
        "ReservedConcurrentExecutions",
        "Layers",
        "Tags",
    }
)
_LAMBDA_DEFAULT_TIMEOUT: Final = 3
_LAMBDA_DEFAULT_MEMORY: Final = 128
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_PREFIX: Final = "AWS::"
_NO_VALUE: Final = object()


def deploy_stack(
    template: Path,
    *,
    stack_name: str,
    parameters: Mapping[str, str],
    region: str = "us-east-1",
    build_dir: Path | None = None,
    required_layers: tuple[str, ...] | None = None,
) -> DeployedStack:
    """Create the SAM ``template`` as stack ``stack_name`` in the embedded AWS.

    ``build_dir`` is the ``sam build`` output to deploy the code from (usually
    :func:`default_build_dir`); it must be complete and as new as the template and the sources. With
    ``None`` the code comes straight from the source tree (CodeUri / ContentUri).

    ``required_layers`` names the template's layers (logical ids as written) that every function
    must declare; ``None`` means all layers the template defines.
    """
    refuse_real_aws()
    template = template.resolve()
    source = load_template(template)
    code = locate_code(source, template, build_dir)
    values = parameter_values(source, parameters)
    aws = Aws(region)
    packaged = package_template(source, code, aws, stack_name, template.parent)
    expanded = expand(packaged, values, region=aws.region, partition=aws.partition)
    deployment = _Deployment(aws, stack_name, expanded, values, source=source, code=code)
    deployment.run()
    return deployment.result(source, code, required_layers)


# Attributes of resources moto's CloudFormation created, read back through the service APIs.
_Getter = Callable[["Aws", str], Any]
_ATTRIBUTES: Final[dict[tuple[str, str], _Getter]] = {
    ("AWS::Lambda::Function", "Arn"): lambda aws, name: aws.client("lambda").get_function_configuration(
        FunctionName=name
    )["FunctionArn"],
    ("AWS::IAM::Role", "Arn"): lambda aws, name: aws.client("iam").get_role(RoleName=name)["Role"]["Arn"],
    ("AWS::IAM::Role", "RoleId"): lambda aws, name: aws.client("iam").get_role(RoleName=name)["Role"]["RoleId"],
    ("AWS::IAM::ManagedPolicy", "PolicyArn"): lambda aws, arn: arn,
    ("AWS::S3::Bucket", "Arn"): lambda aws, name: f"arn:{aws.partition}:s3:::{name}",
    ("AWS::S3::Bucket", "DomainName"): lambda aws, name: f"{name}.s3.amazonaws.com",
    ("AWS::S3::Bucket", "RegionalDomainName"): lambda aws, name: f"{name}.s3.{aws.region}.amazonaws.com",
    ("AWS::SNS::Topic", "TopicArn"): lambda aws, arn: arn,
    ("AWS::SNS::Topic", "TopicName"): lambda aws, arn: arn.rsplit(":", 1)[1],
    ("AWS::SQS::Queue", "Arn"): lambda aws, url: aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"],
    ("AWS::SQS::Queue", "QueueName"): lambda aws, url: url.rsplit("/", 1)[1],
    ("AWS::SQS::Queue", "QueueUrl"): lambda aws, url: url,
    ("AWS::Logs::LogGroup", "Arn"): lambda aws, name: (
        f"arn:{aws.partition}:logs:{aws.region}:{aws.account}:log-group:{name}:*"
    ),
    ("AWS::KMS::Key", "Arn"): lambda aws, key: aws.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"],
    ("AWS::KMS::Key", "KeyId"): lambda aws, key: key,
    ("AWS::Events::Rule", "Arn"): lambda aws, name: aws.client("events").describe_rule(Name=name)["Arn"],
    ("AWS::Lambda::LayerVersion", "LayerVersionArn"): lambda aws, arn: arn,
}


def _references(value: Any) -> set[str]:
    """Names a value refers to through Ref, Fn::GetAtt and Fn::Sub (parameters and pseudo ones included)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            key, argument = next(iter(value.items()))
            if key == "Ref" and isinstance(argument, str):
                return {argument}
            if key == "Fn::GetAtt":
                return {_split_get_att(argument)[0]}
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
                names = {name.split(".")[0] for name in _SUB_VARIABLE.findall(text) if not name.startswith("!")}
                return (names - set(variables)) | _references(variables)
        for item in value.values():
            found |= _references(item)
    return found


def _split_get_att(argument: Any) -> tuple[str, str]:
    if isinstance(argument, str):
        name, _, attribute = argument.partition(".")
        return name, attribute
    return str(argument[0]), str(argument[1])


def _depends_on(resource: Mapping[str, Any]) -> set[str]:
    depends = resource.get("DependsOn", [])
    return {depends} if isinstance(depends, str) else set(depends)


class _Deployment:
    """The state of one deployment: what exists, under which physical id, and how values resolve."""

    def __init__(
        self,
        aws: Aws,
        stack_name: str,
        template: dict[str, Any],
        values: Mapping[str, str],
        *,
        source: Mapping[str, Any] | None = None,
        code: Code | None = None,
    ) -> None:
        self.aws = aws
        self._source = source
        self._code = code
        self.stack_name = stack_name
        self.template = template
        self.values = dict(values)
        self.resources: dict[str, Any] = template["Resources"]
        self.physical: dict[str, str] = {}
        self.created: dict[str, Created] = {}
        self.stack_id: str | None = None
        self.outputs: dict[str, str] = {}
        self.unsupported: list[UnsupportedResource] = []
        self.notes: list[str] = []
        self._conditions: dict[str, bool] = {}
        declared = template.get("Parameters") or {}
        self.parameters: dict[str, Any] = {
            name: value.split(",")
            if str(declared.get(name, {}).get("Type", "")).startswith(("CommaDelimitedList", "List<"))
            else value
            for name, value in values.items()
        }

    # The deployment, in CloudFormation's order as far as moto allows.

    def run(self) -> None:
        active = {lid for lid, resource in self.resources.items() if self._holds(resource)}
        harness = {lid for lid in active if creator_for(self.resources[lid]["Type"]) is not None}
        recorded = {lid for lid in active - harness if not moto_creates(self.resources[lid]["Type"])}
        skipped = {
            lid
            for lid in set(self.resources) - active
            if not moto_creates(self.resources[lid]["Type"]) or creator_for(self.resources[lid]["Type"]) is not None
        }
        stack_side = set(self.resources) - harness - recorded - skipped
        before = self._before_stack(harness)
        for lid in self._in_order(before):
            self._create(lid)
        predicted = self._predict(harness - before)
        self._check_stack_references(stack_side & active, (harness - before - predicted) | recorded)
        deferred = self._create_stack(stack_side, before | predicted)
        self._read_stack()
        self._apply_what_moto_ignores(stack_side & active)
        for lid in self._in_order(harness - before):
            self._create(lid)
        for lid in sorted(recorded):
            self._record(lid)
        for key, output in deferred.items():
            if "Condition" in output and not self.condition(output["Condition"]):
                continue
            try:
                self.outputs[key] = cfn_string(self.resolve(output["Value"]))
            except StackError as error:
                self.note(f"Output {key} is missing: {error}")
        for lid in sorted(skipped):
            self.note(f"{lid} ({self.resources[lid]['Type']}) is not created: its Condition is false")

    def _holds(self, resource: Mapping[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or self.condition(condition)

    def _before_stack(self, harness: set[str]) -> set[str]:
        """Harness-created resources that need nothing from the stack: created first, so the stack
        can refer to them."""
        before: set[str] = set()
        changed = True
        while changed:
            changed = False
            for lid in sorted(harness - before):
                needs = self._needs(lid)
                if needs & set(self.resources) <= before and "AWS::StackId" not in needs:
                    before.add(lid)
                    changed = True
        return before

    def _predict(self, after: set[str]) -> set[str]:
        """Resources created after the stack whose physical id is known before (a named state
        machine's ARN): the stack may refer to them."""
        predicted: set[str] = set()
        for lid in sorted(after):
            resource = self.resources[lid]
            if resource["Type"] != "AWS::StepFunctions::StateMachine":
                continue
            try:
                properties = self.resolve({"StateMachineName": resource["Properties"]["StateMachineName"]})
            except (KeyError, StackError):
                continue
            created = predicted_state_machine(self, properties)
            self.physical[lid] = created.physical_id
            self.created[lid] = created
            predicted.add(lid)
        return predicted

    def _needs(self, lid: str) -> set[str]:
        return _references(self.resources[lid].get("Properties", {})) | _depends_on(self.resources[lid])

    def _check_stack_references(self, stack_side: set[str], unavailable: set[str]) -> None:
        # moto would silently drop a property that refers to a resource it did not create.
        problems = {
            lid: found
            for lid in sorted(stack_side)
            if (found := _references(self.resources[lid].get("Properties", {})) & unavailable)
        }
        if problems:
            types = sorted({self.resources[name]["Type"] for found in problems.values() for name in found})
            raise StackError(
                "The stack refers to resources the embedded AWS can only create after the stack, or not at all "
                f"({', '.join(types)}): "
                + "; ".join(f"{lid} refers to {sorted(found)}" for lid, found in problems.items())
            )

    def _in_order(self, lids: set[str]) -> list[str]:
        graph = {lid: self._needs(lid) & lids for lid in sorted(lids)}
        try:
            return list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as error:
            raise StackError(f"Circular references between {error.args[1]}") from error

    def _create(self, lid: str) -> None:
        resource = self.resources[lid]
        properties = self.resolve(resource.get("Properties", {}))
        try:
            creator = creator_for(resource["Type"])
            if creator is None:
                raise StackError(f"{lid}: the harness does not create {resource['Type']}")
            created = creator(self, lid, properties)
        except Declined as declined:
            self.unsupported.append(
                UnsupportedResource(lid, resource["Type"], properties, f"recorded only: {declined}", None)
            )
            return
        except (ClientError, KeyError, ValueError, TypeError) as error:
            raise StackDeploymentError(
                f"Creating {lid} ({resource['Type']}) through the service API failed: {error}", (lid,)
            ) from error
        if lid in self.physical and self.physical[lid] != created.physical_id:
            raise StackDeploymentError(
                f"{lid} was created as {created.physical_id}, not {self.physical[lid]} as the stack was told", (lid,)
            )
        self.created[lid] = created
        self.physical[lid] = created.physical_id
        self.unsupported.append(
            UnsupportedResource(
                lid,
                resource["Type"],
                properties,
                f"created with {created.via}",
                created.physical_id,
                created.attributes,
            )
        )

    def _record(self, lid: str) -> None:
        resource = self.resources[lid]
        raw = resource.get("Properties", {})
        try:
            properties = self.resolve(raw)
        except StackError as error:
            properties = raw
            self.note(f"{lid}: properties left unresolved ({error})")
        self.unsupported.append(
            UnsupportedResource(
                lid,
                resource["Type"],
                properties,
                "recorded only: neither moto's CloudFormation nor the harness can create it",
                None,
            )
        )

    def _create_stack(self, stack_side: set[str], before: set[str]) -> dict[str, Any]:
        """Create the stack from what moto can create; return the Outputs left for the harness."""
        body = {key: value for key, value in self.template.items() if key not in ("Resources", "Outputs")}
        body["Resources"] = {}
        for lid in sorted(stack_side):
            resource = self._inline(copy.deepcopy(self.resources[lid]), before)
            kept = _depends_on(resource) & stack_side
            resource.pop("DependsOn", None)
            if kept:
                resource["DependsOn"] = sorted(kept)
            body["Resources"][lid] = resource
        unavailable = set(self.resources) - stack_side - before
        deferred: dict[str, Any] = {}
        body["Outputs"] = {}
        for key, output in (self.template.get("Outputs") or {}).items():
            if _references(output) & unavailable:
                deferred[key] = output
            else:
                body["Outputs"][key] = self._inline(copy.deepcopy(output), before)
        cloudformation = self.aws.client("cloudformation")
        try:
            cloudformation.create_stack(
                StackName=self.stack_name,
                TemplateBody=json.dumps(body),
                Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in self.values.items()],
                Capabilities=_CAPABILITIES,
            )
        except Exception as error:  # moto raises whatever its resource models raise
            raise self._failure(body, error) from error
        deadline = time.monotonic() + _STACK_TIMEOUT_SECONDS
        while True:
            stack = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise self._failure(body, None)
        return deferred

    def _failure(self, body: Mapping[str, Any], error: BaseException | None) -> StackDeploymentError:
        cloudformation = self.aws.client("cloudformation")

        def ask(call: Callable[[], Any], fallback: Any) -> Any:
            # moto's listing of a half-created stack raises what the failed resource raised.
            try:
                return call()
            except Exception:
                return fallback

        summaries = ask(self._stack_resources, None)
        events = ask(lambda: cloudformation.describe_stack_events(StackName=self.stack_name)["StackEvents"], [])
        status = ask(
            lambda: cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]["StackStatus"], "unknown"
        )
        failed = [
            f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
            for event in events
            if event["ResourceStatus"].endswith("FAILED") and event["LogicalResourceId"] != self.stack_name
        ]
        failing = _failing_resource(error) if error is not None else None
        if failing is not None:
            failed.insert(0, f"{failing}: {type(error).__name__}: {error}")
        elif error is not None:
            failed.append(f"(resource unknown): moto raised {type(error).__name__}: {error}")
        created = (
            "unknown"
            if summaries is None
            else sorted(set(body["Resources"]) - {s["LogicalResourceId"] for s in summaries})
        )
        return StackDeploymentError(
            f"Stack {self.stack_name} is {status}: failed {failed}; not created: {created}",
            tuple(item.split(":", 1)[0] for item in failed if not item.startswith("(")),
        )

    def _stack_resources(self) -> list[dict[str, Any]]:
        paginator = self.aws.client("cloudformation").get_paginator("list_stack_resources")
        return [
            summary
            for page in paginator.paginate(StackName=self.stack_name)
            for summary in page["StackResourceSummaries"]
        ]

    def _read_stack(self) -> None:
        stack = self.aws.client("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"][0]
        self.stack_id = stack["StackId"]
        self.outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        for summary in self._stack_resources():
            if summary.get("PhysicalResourceId"):
                self.physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
            else:
                self.note(f"{summary['LogicalResourceId']} ({summary['ResourceType']}) has no physical id in moto")

    def _apply_what_moto_ignores(self, stack_side: set[str]) -> None:
        for lid in sorted(stack_side):
            resource = self.resources[lid]
            if resource["Type"] == "AWS::IAM::Role":
                self._apply_role_policies(lid, resource.get("Properties", {}))
            elif resource["Type"] == "AWS::Lambda::Function":
                self._apply_function_settings(lid, resource.get("Properties", {}))

    def _apply_role_policies(self, lid: str, raw: Mapping[str, Any]) -> None:
        properties = self.resolve(dict(raw))
        iam = self.aws.client("iam")
        for policy in properties.get("Policies", []):
            # moto's CloudFormation stores an inline policy as a Python dict, which its IAM API
            # then returns as the dict's repr; put through the API, it is held as JSON (and validated).
            document = dict(policy["PolicyDocument"])
            if "Version" not in document:
                # IAM would apply the 2008-10-17 language (no policy variables); moto refuses it.
                self.note(
                    f"{lid}: policy {policy['PolicyName']} has no Version, so IAM applies the 2008-10-17 "
                    "policy language; the embedded IAM holds it with Version 2012-10-17"
                )
                document = {"Version": "2012-10-17"} | document
            try:
                iam.put_role_policy(
                    RoleName=self.physical[lid], PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document)
                )
            except ClientError as error:
                raise StackError(f"{lid}: IAM rejects policy {policy['PolicyName']}: {error}") from error
        for arn in properties.get("ManagedPolicyArns", []):
            self._attach_managed_policy(self.physical[lid], arn)

    def _attach_managed_policy(self, role_name: str, arn: str) -> None:
        # moto's CloudFormation ignores ManagedPolicyArns, and moto's IAM knows AWS managed
        # policies only when told to load all of them.
        iam = self.aws.client("iam")
        try:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity" or ":iam::aws:policy/" not in arn:
                raise StackError(f"Cannot attach {arn} to role {role_name}: {error}") from error
            self._load_aws_managed_policy(arn)
            iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)

    def _load_aws_managed_policy(self, arn: str) -> None:
        """Give moto's IAM the one AWS managed policy, from moto's own bundled copy of them."""
        from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415
        from moto.iam.models import AWSManagedPolicy, iam_backends  # noqa: PLC0415

        name = arn.rsplit("/", 1)[1]
        data = json.loads(aws_managed_policies_data).get(name)
        if data is None or arn != f"arn:{self.aws.partition}:iam::aws:policy{data['Path']}{name}":
            raise StackError(f"{arn} is not an AWS managed policy (moto's copy of the list has no such policy)")
        # Internal, but the embedded AWS runs in this process (in-process mock or threaded server).
        backend = iam_backends[self.aws.account][self.aws.partition]
        policy = AWSManagedPolicy.from_data(name, self.aws.account, self.aws.region, data)
        backend.managed_policies[policy.arn] = policy
        backend.aws_managed_policies.append(policy)

    def _apply_function_settings(self, lid: str, raw: Mapping[str, Any]) -> None:
        properties = self.resolve(dict(raw))
        reserved = sorted(set(properties.get("Environment", {}).get("Variables", {})) & RESERVED_ENVIRONMENT_KEYS)
        if reserved:
            # Lambda itself rejects these; moto does not.
            raise StackError(f"{lid} sets reserved environment variables {reserved}, which Lambda rejects")
        lam = self.aws.client("lambda")
        name = self.physical[lid]
        variables = properties.get("Environment", {}).get("Variables", {})
        held = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        strings = {key: cfn_string(value) for key, value in variables.items()}
        if {key: cfn_string(value) for key, value in held.items()} != strings:
            raise StackError(f"{lid}: moto and the harness resolve Environment differently: {held} != {strings}")
        numbers = sorted(key for key, value in held.items() if not isinstance(value, str))
        if numbers:
            # moto's CloudFormation passes a Number parameter on as a number; CloudFormation gives
            # Lambda strings only.
            self.note(f"{lid}: moto held Environment {numbers} as numbers; set as strings, as CloudFormation does")
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": strings})
        if properties.get("Layers"):
            try:
                lam.update_function_configuration(FunctionName=name, Layers=properties["Layers"])
            except ClientError as error:
                self.note(f"{lid}: moto could not attach Layers {properties['Layers']} ({error})")
        if properties.get("Tags"):
            arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
            lam.tag_resource(Resource=arn, Tags={tag["Key"]: tag["Value"] for tag in properties["Tags"]})
        ignored = sorted(set(properties) - _FUNCTION_PROPERTIES_APPLIED)
        if ignored:
            self.note(f"{lid}: moto's Lambda ignores {ignored}; function_config() reports them as declared")

    def result(self, source: Mapping[str, Any], code: Code, required_layers: tuple[str, ...] | None) -> DeployedStack:
        layer_arns = self._layer_arns(source)
        required = tuple(layer_arns) if required_layers is None else required_layers
        unknown = sorted(set(required) - set(layer_arns))
        if unknown:
            raise StackError(f"Required layers {unknown} are not layers of the template ({sorted(layer_arns)})")
        functions = {
            lid: self._function_config(lid, code.functions[lid])
            for lid, resource in self.resources.items()
            if resource["Type"] == "AWS::Lambda::Function" and lid in self.physical and lid in code.functions
        }
        stack = DeployedStack(
            stack_name=self.stack_name,
            region=self.aws.region,
            outputs=self.outputs,
            parameters=self.values,
            resources=dict(self.physical),
            expanded_template=self.template,
            unsupported_resources=tuple(self.unsupported),
            notes=tuple(self.notes),
            functions=functions,
            _layer_paths={layer_arns[lid]: code.layers[lid].import_path for lid in layer_arns},
            _required_layers={lid: layer_arns[lid] for lid in required},
        )
        log.log(
            logging.WARNING if stack.unsupported_resources else logging.INFO,
            "Stack %s: moto's CloudFormation cannot create %d resource(s): %s",
            self.stack_name,
            len(stack.unsupported_resources),
            "; ".join(f"{r.logical_id} ({r.resource_type}) {r.handling}" for r in stack.unsupported_resources)
            or "none",
        )
        if stack.notes:
            log.warning("Stack %s differs from its template: %s", self.stack_name, " | ".join(stack.notes))
        return stack

    def _layer_arns(self, source: Mapping[str, Any]) -> dict[str, str]:
        """Layer logical id as written in the template -> the layer version ARN in the embedded AWS."""
        arns: dict[str, str] = {}
        for lid, resource in source["Resources"].items():
            if resource.get("Type") not in LAYER_TYPES:
                continue
            # The SAM transform renames a layer to its logical id plus a 10-digit content hash.
            pattern = re.compile(re.escape(lid) + r"([0-9a-f]{10})?")
            matches = [
                expanded
                for expanded, candidate in self.resources.items()
                if candidate["Type"] == "AWS::Lambda::LayerVersion" and pattern.fullmatch(expanded)
            ]
            if len(matches) == 1 and matches[0] in self.physical:
                arns[lid] = self.physical[matches[0]]
        return arns

    def _function_config(self, lid: str, code_dir: Path) -> FunctionConfig:
        properties = self.resolve(self.resources[lid]["Properties"])
        configuration = self.aws.client("lambda").get_function_configuration(FunctionName=self.physical[lid])
        log_group = properties.get("LoggingConfig", {}).get("LogGroup", f"/aws/lambda/{configuration['FunctionName']}")
        return FunctionConfig(
            logical_id=lid,
            function_name=configuration["FunctionName"],
            function_arn=configuration["FunctionArn"],
            handler=str(properties["Handler"]),
            runtime=str(properties["Runtime"]),
            timeout=int(properties.get("Timeout", _LAMBDA_DEFAULT_TIMEOUT)),
            memory_size=int(properties.get("MemorySize", _LAMBDA_DEFAULT_MEMORY)),
            role_arn=configuration["Role"],
            architectures=tuple(properties.get("Architectures", ["x86_64"])),
            layers=tuple(properties.get("Layers", [])),
            log_group=log_group,
            code_dir=code_dir,
        )

    def note(self, message: str) -> None:
        self.notes.append(message)

    def invoke_custom_resource(self, lid: str, properties: dict[str, Any]) -> dict[str, Any]:
        """CloudFormation's Create request, sent to the ServiceToken function in this process; the
        answer it PUT to the ResponseURL (a local stand-in)."""
        token = properties.get("ServiceToken")
        function = next(
            (
                name
                for name, resource in self.resources.items()
                if resource["Type"] == "AWS::Lambda::Function" and name in self.physical and self._arn_of(name) == token
            ),
            None,
        )
        if function is None or self._code is None or self._source is None or function not in self._code.functions:
            raise StackError(f"{lid}: ServiceToken {token!r} is not a function of this stack the harness can run")
        config = self._function_config(function, self._code.functions[function])
        layer_arns = self._layer_arns(self._source)
        layer_paths = [self._code.layers[name].import_path for name, arn in layer_arns.items() if arn in config.layers]
        moment = datetime.now(UTC)
        with response_url() as inbox:
            event = {
                "RequestType": "Create",
                "ResponseURL": inbox.url,
                "StackId": f"arn:{self.aws.partition}:cloudformation:{self.aws.region}:{self.aws.account}:stack/"
                f"{self.stack_name}/embedded",
                "RequestId": secrets.token_hex(16),
                "ResourceType": self.resources[lid]["Type"],
                "LogicalResourceId": lid,
                "ResourceProperties": properties,
            }
            invoke_handler(
                config,
                event,
                variables=handler_environment(config, self.aws.region, moment),
                moment=moment,
                layer_paths=layer_paths,
            )
        if len(inbox.bodies) != 1:
            raise StackError(f"{lid}: the function answered CloudFormation {len(inbox.bodies)} times, not once")
        answer: dict[str, Any] = json.loads(inbox.bodies[0])
        return answer

    def _arn_of(self, lid: str) -> str:
        arn: str = self.aws.client("lambda").get_function_configuration(FunctionName=self.physical[lid])["FunctionArn"]
        return arn

    def generated_name(self, lid: str) -> str:
        """A name as CloudFormation makes one up: stack, logical id, random suffix (at most 64 characters)."""
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        return f"{f'{self.stack_name}-{lid}'[:51]}-{suffix}"

    # Intrinsic functions, resolved against the embedded AWS.

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = (self.template.get("Conditions") or {}).get(name)
            if definition is None:
                raise StackError(f"Condition {name} is not defined")
            value = self._condition_value(definition)
            if not isinstance(value, bool):
                raise StackError(f"Condition {name} does not evaluate to true or false")
            self._conditions[name] = value
        return self._conditions[name]

    def _condition_value(self, value: Any) -> Any:
        if isinstance(value, dict) and list(value) == ["Condition"]:
            return self.condition(value["Condition"])
        return self.resolve(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(element) for element in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, argument = next(iter(value.items()))
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _function(self, key: str, argument: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per function
        if key == "Fn::GetAtt":
            return self.get_att(*_split_get_att(self.resolve(argument)))
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(cfn_string(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(argument)
            return str(text).split(str(delimiter))
        if key == "Fn::Equals":
            left, right = (cfn_string(item) for item in self.resolve(argument))
            return left == right
        if key == "Fn::Not":
            return not self._condition_value(argument[0])
        if key == "Fn::And":
            return all(self._condition_value(item) for item in argument)
        if key == "Fn::Or":
            return any(self._condition_value(item) for item in argument)
        if key == "Fn::FindInMap":
            name, first, second = self.resolve(argument)[:3]
            return self.template["Mappings"][name][first][second]
        if key == "Fn::Base64":
            import base64  # noqa: PLC0415 - rare

            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        if key == "Fn::GetAZs":
            region = self.resolve(argument) or self.aws.region
            return [f"{region}{zone}" for zone in "abc"]
        if key == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        if key == "Fn::Length":
            return len(self.resolve(argument))
        if key == "Fn::ImportValue":
            wanted = self.resolve(argument)
            paginator = self.aws.client("cloudformation").get_paginator("list_exports")
            for page in paginator.paginate():
                for export in page["Exports"]:
                    if export["Name"] == wanted:
                        return export["Value"]
            raise StackError(f"No export named {wanted}")
        raise StackError(f"The harness cannot resolve {key}")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return cfn_string(variables[name])
            if "." in name and not name.startswith(_PSEUDO_PREFIX):
                return cfn_string(self.get_att(*name.split(".", 1)))
            return cfn_string(self.ref(name))

        return _SUB_VARIABLE.sub(replace, str(text))

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.aws.account,
            "AWS::Region": self.aws.region,
            "AWS::Partition": self.aws.partition,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name == "AWS::StackId":
            if self.stack_id is None:
                raise StackError("AWS::StackId is not known before the stack exists")
            return self.stack_id
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        if name in self.resources:
            raise StackError(f"{name} ({self.resources[name]['Type']}) does not exist in the embedded AWS")
        raise StackError(f"Ref to {name}, which the template does not define")

    def get_att(self, name: str, attribute: str) -> Any:
        if name in self.created and attribute in self.created[name].attributes:
            return self.created[name].attributes[attribute]
        resource = self.resources.get(name)
        if resource is None:
            raise StackError(f"Fn::GetAtt {name}.{attribute}: the template defines no {name}")
        getter = _ATTRIBUTES.get((resource["Type"], attribute))
        if getter is None or name not in self.physical:
            raise StackError(
                f"Fn::GetAtt {name}.{attribute} ({resource['Type']}): the harness cannot read this attribute; "
                "add it to _ATTRIBUTES in stack_harness/deploy.py"
            )
        return getter(self.aws, self.physical[name])

    def _inline(self, value: Any, names: set[str]) -> Any:
        """The value with references to ``names`` (created before the stack) replaced by their values."""
        if isinstance(value, list):
            return [self._inline(item, names) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, argument = next(iter(value.items()))
            if key == "Ref" and argument in names:
                return self.physical[argument]
            if key == "Fn::GetAtt" and _split_get_att(argument)[0] in names:
                return self.get_att(*_split_get_att(argument))
            if key == "Fn::Sub":
                return {"Fn::Sub": self._inline_sub(argument, names)}
        return {key: self._inline(item, names) for key, item in value.items()}

    def _inline_sub(self, argument: Any, names: set[str]) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            base, _, attribute = name.partition(".")
            if name.startswith("!") or name in variables or base not in names:
                return match.group(0)
            return cfn_string(self.get_att(base, attribute) if attribute else self.physical[base])

        inlined = _SUB_VARIABLE.sub(replace, text)
        return inlined if isinstance(argument, str) else [inlined, self._inline(variables, names)]


def _failing_resource(error: BaseException) -> str | None:
    """The logical id moto was creating when it raised (in-process only: a server sends no traceback)."""
    found: str | None = None
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name == "parse_and_create_resource":
            found = traceback.tb_frame.f_locals.get("logical_id")
        traceback = traceback.tb_next
    return found

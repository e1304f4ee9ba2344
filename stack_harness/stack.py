"""A stack deployed to the embedded AWS, as tests use it: its outputs and resources, what moto could
not create, each function's configuration, environment and role policies, its schedules' events,
and the invocation of its handlers."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import boto3

from embedded_aws.accounts import role_credentials
from stack_harness.errors import LayerNotDeclaredError
from stack_harness.invoke import (
    FunctionConfig,
    fill_scheduler_placeholders,
    invoke_handler,
    log_stream_name,
    runtime_environment,
)


@dataclass(frozen=True)
class UnsupportedResource:
    """A resource moto's CloudFormation cannot create, and what the harness did instead."""

    logical_id: str
    resource_type: str
    # Resolved against the deployed stack where possible, else as the expanded template has them.
    properties: Mapping[str, Any]
    # e.g. "created with scheduler.create_schedule" or "recorded only: ..."
    handling: str
    # None when the embedded AWS does not hold the resource.
    physical_id: str | None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def created(self) -> bool:
        return self.physical_id is not None


@dataclass(frozen=True)
class RolePolicy:
    """One policy of a role, as moto's IAM holds it."""

    name: str
    kind: Literal["inline", "managed"]
    arn: str | None
    document: Mapping[str, Any]

    @property
    def statements(self) -> list[dict[str, Any]]:
        statement = self.document.get("Statement", [])
        return [statement] if isinstance(statement, dict) else list(statement)


@dataclass(frozen=True)
class DeployedStack:
    """A stack created in the embedded AWS from a SAM template."""

    stack_name: str
    region: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    # Logical id -> physical id, for every resource the embedded AWS holds.
    resources: dict[str, str]
    expanded_template: dict[str, Any]
    unsupported_resources: tuple[UnsupportedResource, ...]
    # Where the embedded AWS still differs from what the template declares.
    notes: tuple[str, ...]
    functions: dict[str, FunctionConfig]
    _layer_paths: dict[str, Path] = field(repr=False)  # layer version ARN -> import path
    _required_layers: dict[str, str] = field(repr=False)  # template logical id -> layer version ARN

    def function_config(self, logical_id: str) -> FunctionConfig:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise KeyError(f"{logical_id} is not a function of {self.stack_name}: {sorted(self.functions)}") from None

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment variables exactly as the embedded Lambda holds them."""
        config = self.function_config(logical_id)
        response = boto3.client("lambda", region_name=self.region).get_function_configuration(
            FunctionName=config.function_name
        )
        return dict(response.get("Environment", {}).get("Variables", {}))

    def role_policy_documents(self, logical_id: str) -> list[RolePolicy]:
        """Inline and attached managed policies of a function's role (or of a role), from moto's IAM."""
        if logical_id in self.functions:
            role_name = self.functions[logical_id].role_arn.rsplit("/", 1)[1]
        elif self.expanded_template["Resources"].get(logical_id, {}).get("Type") == "AWS::IAM::Role":
            role_name = self.resources[logical_id]
        else:
            raise KeyError(f"{logical_id} is neither a function nor a role of {self.stack_name}")
        iam: Any = boto3.client("iam", region_name=self.region)
        policies: list[RolePolicy] = []
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
            for name in page["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                policies.append(RolePolicy(name, "inline", None, _policy_document(document)))
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
            for attached in page["AttachedPolicies"]:
                arn = attached["PolicyArn"]
                version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
                policies.append(RolePolicy(attached["PolicyName"], "managed", arn, _policy_document(document)))
        return policies

    def scheduled_event(self, logical_id: str, schedule: str | None = None) -> dict[str, Any]:
        """The Input of the EventBridge Scheduler schedule that targets the function, as the
        embedded Scheduler holds it; its ``<aws.scheduler.*>`` placeholders are left for
        :meth:`invoke` to fill in."""
        config = self.function_config(logical_id)
        candidates = [
            resource
            for resource in self.unsupported_resources
            if resource.resource_type == "AWS::Scheduler::Schedule"
            and resource.created
            and _targets(resource.properties.get("Target", {}).get("Arn"), config.function_arn)
            and schedule in (None, resource.logical_id)
        ]
        if len(candidates) != 1:
            names = [resource.logical_id for resource in candidates]
            raise ValueError(f"{len(candidates)} schedules target {logical_id} {names}: name one of them")
        resource = candidates[0]
        scheduler: Any = boto3.client("scheduler", region_name=self.region)
        found = scheduler.get_schedule(
            Name=resource.physical_id, GroupName=resource.properties.get("GroupName", "default")
        )
        if "Input" not in found["Target"]:
            # Scheduler then sends a "default notification" whose shape AWS does not document.
            raise ValueError(f"Schedule {resource.logical_id} has no Input: pass the event yourself")
        event: dict[str, Any] = json.loads(found["Target"]["Input"])
        return event

    def invocation_environment(self, logical_id: str, moment: datetime) -> dict[str, str]:
        """What the handler's process sees: the stack's variables for the function plus the
        runtime's own (region, function name, memory, log stream of ``moment``...) and the
        credentials of the function's execution role."""
        return handler_environment(self.function_config(logical_id), self.region, moment)

    def invoke(self, logical_id: str, event: Mapping[str, Any], *, now: datetime | None = None) -> Any:
        """Run the function's handler in this process, as Lambda would, and return its response.

        The handler sees the stack's environment variables for the function plus the runtime's
        and its execution role's credentials (the endpoint of the caller stays), its module is
        imported afresh, and the event and the response go through JSON. ``now`` is the
        invocation time: it fills ``<aws.scheduler.scheduled-time>`` and the other Scheduler
        placeholders in the event. Exceptions from the handler propagate.
        """
        config = self.function_config(logical_id)
        self._check_layers(config)
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        payload = fill_scheduler_placeholders(
            json.loads(json.dumps(dict(event))), moment, schedule_arn=lambda: self._schedule_arn(config)
        )
        variables = self.invocation_environment(logical_id, moment)
        layer_paths = [self._layer_paths[arn] for arn in config.layers if arn in self._layer_paths]
        return invoke_handler(config, payload, variables=variables, moment=moment, layer_paths=layer_paths)

    def _function_by_arn(self, arn: str) -> str:
        for logical_id, config in self.functions.items():
            if arn in {config.function_arn, config.function_name} or arn.startswith(f"{config.function_arn}:"):
                return logical_id
        raise KeyError(f"{arn} is not a function of {self.stack_name}")

    def schedule_input(self, logical_id: str) -> dict[str, Any]:
        """The Input of the one created schedule that targets resource ``logical_id`` (a state
        machine), placeholders left in."""
        arn = self.resources[logical_id]
        candidates = [
            resource
            for resource in self.unsupported_resources
            if resource.resource_type == "AWS::Scheduler::Schedule"
            and resource.created
            and resource.properties.get("Target", {}).get("Arn") == arn
        ]
        if len(candidates) != 1:
            raise ValueError(f"{len(candidates)} schedules target {logical_id}")
        scheduler: Any = boto3.client("scheduler", region_name=self.region)
        found = scheduler.get_schedule(
            Name=candidates[0].physical_id, GroupName=candidates[0].properties.get("GroupName", "default")
        )
        event: dict[str, Any] = json.loads(found["Target"]["Input"])
        return event

    def run_state_machine(
        self, logical_id: str, execution_input: Mapping[str, Any], *, now: datetime, timeout: float = 600.0
    ) -> dict[str, Any]:
        """Start an execution of the state machine as its schedule would at ``now``, with its
        Lambda tasks run in this process (as :meth:`invoke` runs them, at ``now``), and wait for
        it to end. Returns DescribeExecution's answer, ``output`` parsed."""
        from embedded_aws.stepfunctions import set_lambda_runner  # noqa: PLC0415 - only organization stacks need it

        payload = fill_scheduler_placeholders(
            json.loads(json.dumps(dict(execution_input))), now, schedule_arn=lambda: f"{self.stack_name}-schedule"
        )

        def run(function_arn: str, event: str) -> tuple[str, bool]:
            logical = self._function_by_arn(function_arn)
            try:
                response = self.invoke(logical, json.loads(event), now=now)
            except Exception as error:  # the runtime reports a handler's exception as the invocation's error
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}), True
            return json.dumps(response), False

        client: Any = boto3.client("stepfunctions", region_name=self.region)
        set_lambda_runner(run)
        try:
            execution = client.start_execution(stateMachineArn=self.resources[logical_id], input=json.dumps(payload))
            deadline = time.monotonic() + timeout
            while True:
                described: dict[str, Any] = client.describe_execution(executionArn=execution["executionArn"])
                if described["status"] != "RUNNING" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        finally:
            set_lambda_runner(None)
        if described.get("output"):
            described["output"] = json.loads(described["output"])
        return described

    def _check_layers(self, config: FunctionConfig) -> None:
        missing = [name for name, arn in self._required_layers.items() if arn not in config.layers]
        if missing:
            raise LayerNotDeclaredError(
                f"{config.logical_id} does not declare the layer(s) {missing} in its Layers "
                f"(it has {list(config.layers)}): in Lambda it would run without the shared code"
            )

    def _schedule_arn(self, config: FunctionConfig) -> str:
        """The ARN of the one schedule that targets the function (``<aws.scheduler.schedule-arn>``)."""
        arns = [
            resource.attributes["Arn"]
            for resource in self.unsupported_resources
            if resource.resource_type == "AWS::Scheduler::Schedule"
            and _targets(resource.properties.get("Target", {}).get("Arn"), config.function_arn)
        ]
        if len(arns) != 1:
            raise ValueError(f"<aws.scheduler.schedule-arn>: {len(arns)} schedules target {config.logical_id}")
        return arns[0]


def handler_environment(config: FunctionConfig, region: str, moment: datetime) -> dict[str, str]:
    """A function's whole environment for one invocation at ``moment``: its variables as the
    embedded Lambda holds them, the runtime's, and its role's session (so that it calls AWS as
    its role, which a member account's trust policy can tell from any other caller)."""
    held = boto3.client("lambda", region_name=region).get_function_configuration(FunctionName=config.function_name)
    variables = dict(held.get("Environment", {}).get("Variables", {}))
    return (
        variables
        | runtime_environment(
            region=region,
            function_name=config.function_name,
            memory_size=config.memory_size,
            runtime=config.runtime,
            handler=config.handler,
            task_root=config.code_dir,
            log_group=config.log_group,
            log_stream=log_stream_name(moment),
        )
        | role_credentials(config.role_arn, config.function_name)
    )


def _policy_document(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        parsed: dict[str, Any] = json.loads(urllib.parse.unquote(document))
        return parsed
    return dict(document)


def _targets(target_arn: Any, function_arn: str) -> bool:
    # A schedule may target the function, or one of its versions or aliases.
    return isinstance(target_arn, str) and (target_arn == function_arn or target_arn.startswith(f"{function_arn}:"))

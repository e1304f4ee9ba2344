"""Deploy a SAM template to the embedded AWS and run its functions in-process.

This is what proves that template and code agree. :func:`deploy_stack` expands the SAM transform
offline with ``samtranslator``, uploads each function's and layer's code to the embedded S3 (as
``sam deploy`` would) and creates the expanded template as a CloudFormation stack in moto. Where
moto's CloudFormation cannot create a resource type, the harness creates the resource through
moto's own service API (before the stack when the stack refers to it, after the stack otherwise);
what neither can create is recorded. Every such resource is in
:attr:`DeployedStack.unsupported_resources` and in one log line; nothing is dropped silently.

:meth:`DeployedStack.invoke` runs a handler in this process (moto cannot run Lambda containers)
with exactly the environment the stack gave the function plus what the Lambda runtime sets.

Works in-process (inside :func:`embedded_aws.embedded_aws`) and against a moto server running in
the same process (``AWS_ENDPOINT_URL`` on a loopback address); it refuses to talk to real AWS.
"""

from __future__ import annotations

import copy
import graphlib
import hashlib
import io
import json
import logging
import os
import re
import secrets
import string
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import boto3
import yaml
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, Shape, StructureShape

from bedrock_governance.events import clock_set_to
from stack_harness.invoke import (
    RESERVED_ENVIRONMENT_KEYS,
    LambdaContext,
    fresh_handler,
    handler_module_file,
    lambda_environment,
    log_stream_name,
    marshal_response,
    new_request_id,
    runtime_environment,
)

log = logging.getLogger(__name__)

BUILD_DIR_NAME: Final = ".aws-sam/build"
_CAPABILITIES: Final = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
_SAM_TRANSFORM: Final = "AWS::Serverless-2016-10-31"
_STACK_TIMEOUT_SECONDS: Final = 60.0
# The property that holds the code, per type, and the keys of its S3 form.
_CODE_PROPERTIES: Final = {
    "AWS::Serverless::Function": ("CodeUri", "Bucket", "Key"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "Bucket", "Key"),
    "AWS::Lambda::Function": ("Code", "S3Bucket", "S3Key"),
    "AWS::Lambda::LayerVersion": ("Content", "S3Bucket", "S3Key"),
}
_FUNCTION_TYPES: Final = ("AWS::Serverless::Function", "AWS::Lambda::Function")
_LAYER_TYPES: Final = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
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
_SCHEDULER_PLACEHOLDER: Final = re.compile(
    r"<aws\.scheduler\.(schedule-arn|scheduled-time|execution-id|attempt-number)>"
)
_SUB_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_PREFIX: Final = "AWS::"
_NO_VALUE: Final = object()


class StackError(RuntimeError):
    """The template, its build or its code cannot be deployed as they are."""


class BuildError(StackError):
    """The ``sam build`` output is missing, stale or incomplete."""


class StackDeploymentError(StackError):
    """The embedded AWS could not create the stack."""

    def __init__(self, message: str, failed_resources: tuple[str, ...]) -> None:
        super().__init__(message)
        self.failed_resources = failed_resources


class LayerNotDeclaredError(StackError):
    """A function would run without a layer it needs (moto ignores Layers, the harness does not)."""


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
class FunctionConfig:
    """A function as the expanded template declares it (moto ignores Architectures, among others)."""

    logical_id: str
    function_name: str
    function_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    role_arn: str
    architectures: tuple[str, ...]
    # Layer version ARNs, in order.
    layers: tuple[str, ...]
    log_group: str
    # The directory whose contents ship as the function's code: the build output, or the source.
    code_dir: Path


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
class _LayerCode:
    content: Path  # zipped as the layer's content
    wrap_in_python: bool  # a source directory: the build would have put it under python/
    import_path: Path  # where a handler imports the layer's packages from (in Lambda: /opt/python)


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
        runtime's own (region, function name, memory, log stream of ``moment``...)."""
        config = self.function_config(logical_id)
        return self.function_environment(logical_id) | runtime_environment(
            region=self.region,
            function_name=config.function_name,
            memory_size=config.memory_size,
            runtime=config.runtime,
            handler=config.handler,
            task_root=config.code_dir,
            log_group=config.log_group,
            log_stream=log_stream_name(moment),
        )

    def invoke(self, logical_id: str, event: Mapping[str, Any], *, now: datetime | None = None) -> Any:
        """Run the function's handler in this process, as Lambda would, and return its response.

        The handler sees the stack's environment variables for the function plus the runtime's
        (the caller's credentials and endpoint stay, standing in for the role), its module is
        imported afresh, and the event and the response go through JSON. ``now`` is the
        invocation time: it fills ``<aws.scheduler.scheduled-time>`` and the other Scheduler
        placeholders in the event. Exceptions from the handler propagate.
        """
        config = self.function_config(logical_id)
        self._check_layers(config)
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        payload = self._fill_scheduler_placeholders(config, json.loads(json.dumps(dict(event))), moment)
        variables = self.invocation_environment(logical_id, moment)
        layer_paths = [self._layer_paths[arn] for arn in config.layers if arn in self._layer_paths]
        with (
            lambda_environment(variables),
            # The simulated timeline's moment is the handler's real clock too, as it would be in AWS.
            clock_set_to(moment),
            fresh_handler(config.code_dir, config.handler, layer_paths) as handler,
        ):
            started = time.monotonic()
            context = LambdaContext(
                function_name=config.function_name,
                function_version="$LATEST",
                invoked_function_arn=config.function_arn,
                memory_limit_in_mb=str(config.memory_size),
                aws_request_id=new_request_id(),
                log_group_name=config.log_group,
                log_stream_name=variables["AWS_LAMBDA_LOG_STREAM_NAME"],
                deadline_monotonic=started + config.timeout,
            )
            result = handler(payload, context)
        elapsed = time.monotonic() - started
        if elapsed > config.timeout:
            # Not enforced: the embedded AWS is slower or faster than the real one.
            log.warning("%s ran %.1f s, beyond its Timeout of %d s", logical_id, elapsed, config.timeout)
        return marshal_response(result)

    def _check_layers(self, config: FunctionConfig) -> None:
        missing = [name for name, arn in self._required_layers.items() if arn not in config.layers]
        if missing:
            raise LayerNotDeclaredError(
                f"{config.logical_id} does not declare the layer(s) {missing} in its Layers "
                f"(it has {list(config.layers)}): in Lambda it would run without the shared code"
            )

    def _fill_scheduler_placeholders(self, config: FunctionConfig, payload: Any, moment: datetime) -> Any:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "scheduled-time":
                return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if name == "execution-id":
                return secrets.token_hex(8)
            if name == "attempt-number":
                return "1"
            arns = [
                resource.attributes["Arn"]
                for resource in self.unsupported_resources
                if resource.resource_type == "AWS::Scheduler::Schedule"
                and _targets(resource.properties.get("Target", {}).get("Arn"), config.function_arn)
            ]
            if len(arns) != 1:
                raise ValueError(f"<aws.scheduler.schedule-arn>: {len(arns)} schedules target {config.logical_id}")
            return arns[0]

        def fill(item: Any) -> Any:
            if isinstance(item, str):
                return _SCHEDULER_PLACEHOLDER.sub(value, item)
            if isinstance(item, list):
                return [fill(element) for element in item]
            if isinstance(item, dict):
                return {key: fill(element) for key, element in item.items()}
            return item

        return fill(payload)


def default_build_dir(template: Path) -> Path:
    """Where ``sam build`` (``make build``) puts its output for this template."""
    return template.resolve().parent / BUILD_DIR_NAME


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
    _refuse_real_aws()
    template = template.resolve()
    source = _load_template(template)
    code = _locate_code(source, template, build_dir)
    values = _parameter_values(source, parameters)
    aws = _Aws(region)
    packaged = _package(source, code, aws, stack_name)
    expanded = _expand(packaged, values, aws)
    deployment = _Deployment(aws, stack_name, expanded, values)
    deployment.run()
    return deployment.result(source, code, required_layers)


# --- Reading the template ------------------------------------------------------------------------


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, !GetAtt ...)."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unexpected !{tag_suffix} node", node.start_mark)
    return {name: value}


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # CloudFormation keeps an unquoted date such as 2012-10-17 a string.
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _load_template(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StackError(f"Template {path} does not exist")
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as error:
        raise StackError(f"Cannot parse {path}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise StackError(f"{path} is not a CloudFormation template (no Resources)")
    return document


def _parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """Every parameter's value, checked as CloudFormation checks them before creating anything."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise StackError(f"Parameters {unknown} do not exist in the template")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in given:
            value = given[name]
        elif "Default" in spec:
            value = _cfn_string(spec["Default"])
        else:
            raise StackError(f"Parameter {name} has no Default and no value was given")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    kind = str(spec.get("Type", "String"))
    items = value.split(",") if kind == "CommaDelimitedList" or kind.startswith("List<") else [value]
    allowed = [_cfn_string(item) for item in spec.get("AllowedValues", [])]
    for item in items:
        if allowed and item not in allowed:
            raise StackError(f"Parameter {name}: {item!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), item):
            raise StackError(f"Parameter {name}: {item!r} does not match {pattern!r}")
    if not int(spec.get("MinLength", 0)) <= len(value) <= int(spec.get("MaxLength", len(value))):
        raise StackError(f"Parameter {name}: {value!r} has a length outside MinLength/MaxLength")
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            raise StackError(f"Parameter {name}: {value!r} is not a number") from None
        if not float(spec.get("MinValue", number)) <= number <= float(spec.get("MaxValue", number)):
            raise StackError(f"Parameter {name}: {value} is outside MinValue/MaxValue")


def _cfn_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- Where the code comes from -------------------------------------------------------------------


@dataclass(frozen=True)
class _Code:
    functions: dict[str, Path]  # logical id -> directory whose contents ship as the function
    layers: dict[str, _LayerCode]  # logical id (as written in the template) -> layer code


def _local_code(resource: Mapping[str, Any], globals_: Mapping[str, Any]) -> str | None:
    """The local path a resource's code property names, or None for S3 or inline code."""
    prop = _CODE_PROPERTIES[resource["Type"]][0]
    properties = resource.get("Properties") or {}
    value = properties.get(prop)
    if value is None and resource["Type"] == "AWS::Serverless::Function":
        if "InlineCode" in properties:
            return None
        value = globals_.get("Function", {}).get("CodeUri")
    if isinstance(value, str) and not value.startswith("s3://"):
        return value
    return None


def _code_resources(template: Mapping[str, Any], types: tuple[str, ...]) -> dict[str, Mapping[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res.get("Type") in types}


def _locate_code(source: Mapping[str, Any], template: Path, build_dir: Path | None) -> _Code:
    globals_ = source.get("Globals") or {}
    template_dir = template.parent
    if build_dir is None:
        return _source_code(source, template_dir, globals_)
    build_dir = build_dir.resolve()
    built_template = build_dir / "template.yaml"
    if not built_template.is_file():
        raise BuildError(f"No build at {build_dir} (no template.yaml there): run `make build` (sam build) first")
    built = _load_template(built_template)
    difference = _first_difference(_normalised(source), _normalised(built))
    if difference is not None:
        raise BuildError(
            f"{built_template} is stale: it differs from {template} at {difference}; run `make build` (sam build)"
        )
    built_globals = built.get("Globals") or {}
    functions: dict[str, Path] = {}
    for lid, resource in _code_resources(built, _FUNCTION_TYPES).items():
        built_path = _local_code(resource, built_globals)
        source_path = _local_code(source["Resources"][lid], globals_)
        if built_path is None or source_path is None:
            raise StackError(f"{lid}: the harness needs local code (a CodeUri directory), not S3 or inline code")
        functions[lid] = _checked_directory(build_dir / built_path, f"{lid}'s build output", build=True)
        _check_handler(lid, source["Resources"][lid], globals_, functions[lid], build=True)
        _compare_copies(
            template_dir / source_path,
            functions[lid],
            lid,
            makefile=resource.get("Metadata", {}).get("BuildMethod") == "makefile",
        )
    layers: dict[str, _LayerCode] = {}
    for lid, resource in _code_resources(built, _LAYER_TYPES).items():
        built_path = _local_code(resource, built_globals)
        source_path = _local_code(source["Resources"][lid], globals_)
        if built_path is None or source_path is None:
            raise StackError(f"{lid}: the harness needs local layer content, not S3")
        content = _checked_directory(build_dir / built_path, f"{lid}'s build output", build=True)
        source_dir = _checked_directory(template_dir / source_path, f"{lid}'s ContentUri", build=False)
        _compare_layer_packages(source_dir, content / "python", lid)
        layers[lid] = _LayerCode(content, wrap_in_python=False, import_path=_layer_import_path(source_dir))
    return _Code(functions, layers)


def _source_code(source: Mapping[str, Any], template_dir: Path, globals_: Mapping[str, Any]) -> _Code:
    functions: dict[str, Path] = {}
    for lid, resource in _code_resources(source, _FUNCTION_TYPES).items():
        path = _local_code(resource, globals_)
        if path is None:
            raise StackError(f"{lid}: the harness needs local code (a CodeUri directory), not S3 or inline code")
        functions[lid] = _checked_directory(template_dir / path, f"{lid}'s CodeUri", build=False)
        _check_handler(lid, resource, globals_, functions[lid], build=False)
    layers: dict[str, _LayerCode] = {}
    for lid, resource in _code_resources(source, _LAYER_TYPES).items():
        path = _local_code(resource, globals_)
        if path is None:
            raise StackError(f"{lid}: the harness needs local layer content, not S3")
        directory = _checked_directory(template_dir / path, f"{lid}'s ContentUri", build=False)
        import_path = _layer_import_path(directory)
        layers[lid] = _LayerCode(directory, wrap_in_python=import_path == directory, import_path=import_path)
    return _Code(functions, layers)


def _layer_import_path(directory: Path) -> Path:
    # A layer built by sam (makefile or pip) has its packages at the top of ContentUri; a prebuilt
    # one already has the python/ directory Lambda puts on sys.path.
    nested = directory / "python"
    return nested if nested.is_dir() else directory


def _checked_directory(path: Path, what: str, *, build: bool) -> Path:
    if path.is_dir():
        return path
    if build:
        raise BuildError(f"{what} {path} is not a directory; run `make build` (sam build)")
    raise StackError(f"{what} {path} is not a directory")


def _check_handler(
    lid: str, resource: Mapping[str, Any], globals_: Mapping[str, Any], code_dir: Path, *, build: bool
) -> None:
    handler = (resource.get("Properties") or {}).get("Handler") or globals_.get("Function", {}).get("Handler")
    if not isinstance(handler, str):
        return  # an intrinsic: checked when the function is invoked
    try:
        handler_module_file(code_dir, handler)
    except (ImportError, ValueError) as error:
        message = f"{lid}: Handler {handler!r} does not match the code in {code_dir}: {error}"
        if build:
            raise BuildError(f"{message}; run `make build` (sam build)") from None
        raise StackError(message) from None


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _compare_copies(source_dir: Path, built_dir: Path, lid: str, *, makefile: bool) -> None:
    """Source files must ship unchanged: every one of them (the build may add dependencies), or,
    when a Makefile picks what ships, every one it copied."""
    built = _files(built_dir)
    stale = [
        name
        for name, content in _files(source_dir).items()
        if (name in built or not makefile) and built.get(name) != content
    ]
    if stale:
        raise BuildError(
            f"{lid}: the build in {built_dir} is stale, {stale[:5]} differ from {source_dir}; "
            "run `make build` (sam build)"
        )


def _compare_layer_packages(source_dir: Path, built_python: Path, lid: str) -> None:
    """The layer's own packages must ship byte for byte, so running the source is running the layer."""
    if not built_python.is_dir():
        raise BuildError(f"{lid}: the build has no python/ directory at {built_python}; check the layer's Makefile")
    packages = [
        entry
        for entry in sorted(source_dir.iterdir())
        if (entry.is_dir() and (entry / "__init__.py").is_file()) or (entry.is_file() and entry.suffix == ".py")
    ]
    if not packages:
        raise StackError(f"{lid}: {source_dir} holds no Python package or module")
    for entry in packages:
        built_entry = built_python / entry.name
        if entry.is_file():
            same = built_entry.is_file() and built_entry.read_bytes() == entry.read_bytes()
            differing = [] if same else [entry.name]
        else:
            source_files = _files(entry)
            built_files = _files(built_entry) if built_entry.is_dir() else {}
            differing = sorted(
                name for name in set(source_files) | set(built_files) if source_files.get(name) != built_files.get(name)
            )
        if differing:
            raise BuildError(
                f"{lid}: {built_entry} is not byte-identical to {entry} (differs: {differing[:5]}); "
                "run `make build` (sam build)"
            )


_ARTIFACT: Final = "<artifact>"


def _normalised(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template without what ``sam build`` rewrites: code locations and SamResourceId."""
    result: dict[str, Any] = copy.deepcopy(dict(template))
    for resource in result.get("Resources", {}).values():
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            metadata.pop("SamResourceId", None)
            if not metadata:
                del resource["Metadata"]
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "Code", "Content", "DefinitionUri", "Location"):
            if isinstance(properties.get(key), str):
                properties[key] = _ARTIFACT
    function_globals = (result.get("Globals") or {}).get("Function") or {}
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = _ARTIFACT
    return result


def _first_difference(left: Any, right: Any, path: str = "") -> str | None:
    """Where two parsed templates first differ, as a dotted path; None when they are equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = sorted(set(left) | set(right), key=str)
        pairs = [(f"{path}.{key}", left.get(key, _NO_VALUE), right.get(key, _NO_VALUE)) for key in keys]
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        pairs = [(f"{path}[{index}]", one, other) for index, (one, other) in enumerate(zip(left, right, strict=True))]
    else:
        return None if left == right else (path.lstrip(".") or "(top)")
    for where, one, other in pairs:
        found = _first_difference(one, other, where)
        if found is not None:
            return found
    return None


# --- Packaging and the SAM transform ---------------------------------------------------------------


def _zip_directory(directory: Path, prefix: str = "") -> bytes:
    """A deterministic zip: same files, same bytes, so the code's SHA-256 means something."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _files(directory).items():
            info = zipfile.ZipInfo(prefix + name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _package(source: Mapping[str, Any], code: _Code, aws: _Aws, stack_name: str) -> dict[str, Any]:
    """What ``sam package`` does: upload each code directory and point the template at it."""
    s3: Any = aws.client("s3")
    bucket = f"embedded-aws-sam-artifacts-{aws.account}-{aws.region}"
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        location = (
            {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
        )
        s3.create_bucket(Bucket=bucket, **location)
    packaged: dict[str, Any] = copy.deepcopy(dict(source))
    archives = {lid: _zip_directory(path) for lid, path in code.functions.items()} | {
        lid: _zip_directory(layer.content, "python/" if layer.wrap_in_python else "")
        for lid, layer in code.layers.items()
    }
    for lid, archive in archives.items():
        resource = packaged["Resources"][lid]
        prop, bucket_key, key_key = _CODE_PROPERTIES[resource["Type"]]
        key = f"{stack_name}/{lid}-{hashlib.sha256(archive).hexdigest()[:16]}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=archive)
        resource.setdefault("Properties", {})[prop] = {bucket_key: bucket, key_key: key}
    function_globals = (packaged.get("Globals") or {}).get("Function") or {}
    function_globals.pop("CodeUri", None)  # every function now has its own
    return packaged


def _managed_policy_map(partition: str) -> dict[str, str]:
    """Name -> ARN of AWS managed policies, from moto's bundled copy: no call to real IAM."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415 - large, rarely needed

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {name: f"arn:{partition}:iam::aws:policy{policy['Path']}{name}" for name, policy in data.items()}


def _expand(template: dict[str, Any], values: Mapping[str, str], aws: _Aws) -> dict[str, Any]:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform] if transform else []
    if not transforms:
        return template
    if transforms != [_SAM_TRANSFORM]:
        raise StackError(f"Only the {_SAM_TRANSFORM} transform can be expanded offline, not {transforms}")
    from samtranslator.model.exceptions import InvalidDocumentException  # noqa: PLC0415 - slow import
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=aws.region))
    try:
        expanded: dict[str, Any] = translator.translate(
            copy.deepcopy(template),
            parameter_values=dict(values),
            get_managed_policy_map=lambda: _managed_policy_map(aws.partition),
        )
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise StackError(f"The SAM transform rejects the template: {causes}") from error
    return expanded


# --- Talking to the embedded AWS ---------------------------------------------------------------------


def _refuse_real_aws() -> None:
    from moto.core.models import botocore_stubber  # noqa: PLC0415 - moto is imported only when deploying

    if botocore_stubber.enabled:
        return
    host = urllib.parse.urlparse(os.environ.get("AWS_ENDPOINT_URL", "")).hostname
    if host in {"localhost", "127.0.0.1", "::1"}:
        return
    raise StackError(
        "deploy_stack deploys only to the embedded AWS: call it inside embedded_aws.embedded_aws(), "
        "or with AWS_ENDPOINT_URL pointing at a moto server on this machine"
    )


class _Aws:
    def __init__(self, region: str) -> None:
        self.region = region
        self.session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}
        self.account: str = self.client("sts").get_caller_identity()["Account"]
        self.partition: str = self.session.get_partition_for_region(region)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)  # type: ignore[call-overload]
        return self._clients[service]

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> Any:
        """Call an API with CloudFormation-style values converted to the types the API takes."""
        client = self.client(service)
        shape = client.meta.service_model.operation_model(operation).input_shape
        return getattr(client, xform_name(operation))(**_coerce(shape, dict(params)))


def _coerce(shape: Shape | None, value: Any) -> Any:
    """CloudFormation passes numbers as strings and JSON documents as objects; APIs want their types."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {key: _coerce(shape.members.get(key), item) for key, item in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_coerce(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: _coerce(shape.value, item) for key, item in value.items()}
    if shape is None or (isinstance(value, dict | list) and shape.type_name != "string"):
        return value
    return _coerce_scalar(shape.type_name, value)


def _coerce_scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        if isinstance(value, dict | list):
            return json.dumps(value)
        return _cfn_string(value) if isinstance(value, bool | int | float) else value
    converters: dict[str, Callable[[Any], Any]] = {
        "integer": int,
        "long": int,
        "float": float,
        "double": float,
        "boolean": lambda text: str(text).lower() == "true",
    }
    converter = converters.get(kind)
    return converter(value) if converter is not None and isinstance(value, str) else value


def _policy_document(document: Any) -> dict[str, Any]:
    if isinstance(document, str):
        parsed: dict[str, Any] = json.loads(urllib.parse.unquote(document))
        return parsed
    return dict(document)


def _targets(target_arn: Any, function_arn: str) -> bool:
    # A schedule may target the function, or one of its versions or aliases.
    return isinstance(target_arn, str) and (target_arn == function_arn or target_arn.startswith(f"{function_arn}:"))


# --- Resources the harness creates itself ------------------------------------------------------------


@dataclass(frozen=True)
class _Created:
    physical_id: str
    attributes: dict[str, str]
    via: str


_Creator = Callable[["_Deployment", str, dict[str, Any]], _Created]


def _pick(properties: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: properties[name] for name in names if name in properties}


def _create_layer_version(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    # moto's CloudFormation publishes layers under a generated name and its Ref yields no ARN.
    params = {"LayerName": p.get("LayerName") or d.generated_name(lid)} | _pick(
        p, "Description", "Content", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"
    )
    arn: str = d.aws.call("lambda", "PublishLayerVersion", params)["LayerVersionArn"]
    return _Created(arn, {}, "lambda.publish_layer_version")


def _create_schedule(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    params = {"Name": d.generated_name(lid)} | p
    arn: str = d.aws.call("scheduler", "CreateSchedule", params)["ScheduleArn"]
    return _Created(params["Name"], {"Arn": arn}, "scheduler.create_schedule")


def _create_schedule_group(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    params = {"Name": d.generated_name(lid)} | p
    arn: str = d.aws.call("scheduler", "CreateScheduleGroup", params)["ScheduleGroupArn"]
    return _Created(params["Name"], {"Arn": arn}, "scheduler.create_schedule_group")


def _create_topic_policy(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    for topic in p["Topics"]:
        d.aws.call(
            "sns",
            "SetTopicAttributes",
            {"TopicArn": topic, "AttributeName": "Policy", "AttributeValue": p["PolicyDocument"]},
        )
    return _Created(d.generated_name(lid), {}, "sns.set_topic_attributes(Policy)")


def _create_subscription(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
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
    return _Created(arn, {}, "sns.subscribe")


class _Declined(Exception):
    """The embedded AWS would hold the resource but act on it unlike AWS: better not to create it."""


def _create_bucket_policy(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    statements = p["PolicyDocument"].get("Statement", [])
    if any("Condition" in statement for statement in ([statements] if isinstance(statements, dict) else statements)):
        # moto's S3 enforces bucket policies but ignores their conditions: a Deny that AWS applies
        # only to plain HTTP, say, would refuse every request.
        raise _Declined("moto's S3 would enforce its statements without their Condition")
    d.aws.call("s3", "PutBucketPolicy", {"Bucket": p["Bucket"], "Policy": p["PolicyDocument"]})
    return _Created(p["Bucket"], {}, "s3.put_bucket_policy")


def _create_queue_policy(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    for queue_url in p["Queues"]:
        d.aws.call("sqs", "SetQueueAttributes", {"QueueUrl": queue_url, "Attributes": {"Policy": p["PolicyDocument"]}})
    return _Created(d.generated_name(lid), {}, "sqs.set_queue_attributes(Policy)")


def _create_alarm(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    params = {"AlarmName": d.generated_name(lid)} | p
    d.aws.call("cloudwatch", "PutMetricAlarm", params)
    alarms = d.aws.client("cloudwatch").describe_alarms(AlarmNames=[params["AlarmName"]])["MetricAlarms"]
    return _Created(params["AlarmName"], {"Arn": alarms[0]["AlarmArn"]}, "cloudwatch.put_metric_alarm")


def _create_event_invoke_config(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    d.aws.call("lambda", "PutFunctionEventInvokeConfig", p)
    return _Created(
        f"{p['FunctionName']}:{p.get('Qualifier', '$LATEST')}", {}, "lambda.put_function_event_invoke_config"
    )


def _create_alias(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
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
    return _Created(arn, {}, "lambda.create_alias")


def _create_function_url(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    params = {"FunctionName": p["TargetFunctionArn"]} | _pick(p, "Qualifier", "AuthType", "Cors", "InvokeMode")
    response = d.aws.call("lambda", "CreateFunctionUrlConfig", params)
    return _Created(
        response["FunctionArn"],
        {"FunctionArn": response["FunctionArn"], "FunctionUrl": response["FunctionUrl"]},
        "lambda.create_function_url_config",
    )


def _create_budget(d: _Deployment, lid: str, p: dict[str, Any]) -> _Created:
    budget = {"BudgetName": d.generated_name(lid)} | p["Budget"]
    params = {"AccountId": d.aws.account, "Budget": budget} | _pick(p, "NotificationsWithSubscribers", "ResourceTags")
    d.aws.call("budgets", "CreateBudget", params)
    return _Created(budget["BudgetName"], {}, "budgets.create_budget")


# Types the harness creates through the service API, because moto's CloudFormation cannot (or, for
# layers, creates them wrongly).
_CREATORS: Final[dict[str, _Creator]] = {
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
}


def _moto_creates(resource_type: str) -> bool:
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map  # noqa: PLC0415 - see _refuse_real_aws

    # Custom resources would need their Lambda function to run; moto cannot run it.
    return (
        resource_type in get_model_map()
        and resource_type not in NULL_MODELS
        and resource_type not in _CREATORS
        and not resource_type.startswith("Custom::")
    )


# Attributes of resources moto's CloudFormation created, read back through the service APIs.
_Getter = Callable[["_Aws", str], Any]
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


# --- The deployment --------------------------------------------------------------------------------------


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

    def __init__(self, aws: _Aws, stack_name: str, template: dict[str, Any], values: Mapping[str, str]) -> None:
        self.aws = aws
        self.stack_name = stack_name
        self.template = template
        self.values = dict(values)
        self.resources: dict[str, Any] = template["Resources"]
        self.physical: dict[str, str] = {}
        self.created: dict[str, _Created] = {}
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
        harness = {lid for lid in active if self.resources[lid]["Type"] in _CREATORS}
        recorded = {lid for lid in active - harness if not _moto_creates(self.resources[lid]["Type"])}
        skipped = {lid for lid in set(self.resources) - active if not _moto_creates(self.resources[lid]["Type"])}
        stack_side = set(self.resources) - harness - recorded - skipped
        before = self._before_stack(harness)
        self._check_stack_references(stack_side & active, (harness - before) | recorded)
        for lid in self._in_order(before):
            self._create(lid)
        deferred = self._create_stack(stack_side, before)
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
                self.outputs[key] = _cfn_string(self.resolve(output["Value"]))
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
            created = _CREATORS[resource["Type"]](self, lid, properties)
        except _Declined as declined:
            self.unsupported.append(
                UnsupportedResource(lid, resource["Type"], properties, f"recorded only: {declined}", None)
            )
            return
        except (ClientError, KeyError, ValueError, TypeError) as error:
            raise StackDeploymentError(
                f"Creating {lid} ({resource['Type']}) through the service API failed: {error}", (lid,)
            ) from error
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
        strings = {key: _cfn_string(value) for key, value in variables.items()}
        if {key: _cfn_string(value) for key, value in held.items()} != strings:
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

    def result(self, source: Mapping[str, Any], code: _Code, required_layers: tuple[str, ...] | None) -> DeployedStack:
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
            if resource.get("Type") not in _LAYER_TYPES:
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
            return str(delimiter).join(_cfn_string(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(argument)
            return str(text).split(str(delimiter))
        if key == "Fn::Equals":
            left, right = (_cfn_string(item) for item in self.resolve(argument))
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
                return _cfn_string(variables[name])
            if "." in name and not name.startswith(_PSEUDO_PREFIX):
                return _cfn_string(self.get_att(*name.split(".", 1)))
            return _cfn_string(self.ref(name))

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
            return _cfn_string(self.get_att(base, attribute) if attribute else self.physical[base])

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

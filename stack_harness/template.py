"""Reading a SAM template as CloudFormation does and expanding its transform offline with samtranslator.

Short-form tags (``!Ref``, ``!Sub`` ...) are read into their long form, parameter values are checked
as CloudFormation checks them before creating anything, and the SAM transform is run without a call
to AWS (the managed-policy names come from moto's bundled copy).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import boto3
import yaml

from stack_harness.errors import StackError

_SAM_TRANSFORM: Final = "AWS::Serverless-2016-10-31"


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


def load_template(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StackError(f"Template {path} does not exist")
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as error:
        raise StackError(f"Cannot parse {path}: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise StackError(f"{path} is not a CloudFormation template (no Resources)")
    return document


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
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
            value = cfn_string(spec["Default"])
        else:
            raise StackError(f"Parameter {name} has no Default and no value was given")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    kind = str(spec.get("Type", "String"))
    items = value.split(",") if kind == "CommaDelimitedList" or kind.startswith("List<") else [value]
    allowed = [cfn_string(item) for item in spec.get("AllowedValues", [])]
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


def cfn_string(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _managed_policy_map(partition: str) -> dict[str, str]:
    """Name -> ARN of AWS managed policies, from moto's bundled copy: no call to real IAM."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data  # noqa: PLC0415 - large, rarely needed

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {name: f"arn:{partition}:iam::aws:policy{policy['Path']}{name}" for name, policy in data.items()}


def expand(template: dict[str, Any], values: Mapping[str, str], *, region: str, partition: str) -> dict[str, Any]:
    """The template with the SAM transform applied, as CloudFormation would apply it in ``region``."""
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform] if transform else []
    if not transforms:
        return template
    if transforms != [_SAM_TRANSFORM]:
        raise StackError(f"Only the {_SAM_TRANSFORM} transform can be expanded offline, not {transforms}")
    from samtranslator.model.exceptions import InvalidDocumentException  # noqa: PLC0415 - slow import
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        expanded: dict[str, Any] = translator.translate(
            copy.deepcopy(template),
            parameter_values=dict(values),
            get_managed_policy_map=lambda: _managed_policy_map(partition),
        )
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes)
        raise StackError(f"The SAM transform rejects the template: {causes}") from error
    return expanded

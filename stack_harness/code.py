"""Where each function's and layer's code comes from, and whether the build is fresh.

The code is the ``sam build`` output, refused when it is missing, stale against the template or the
sources, or incomplete; or, without a build, the source tree itself (CodeUri / ContentUri).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stack_harness.errors import BuildError, StackError
from stack_harness.invoke import handler_module_file
from stack_harness.template import load_template

BUILD_DIR_NAME: Final = ".aws-sam/build"
# The property that holds the code, per type, and the keys of its S3 form.
CODE_PROPERTIES: Final = {
    "AWS::Serverless::Function": ("CodeUri", "Bucket", "Key"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "Bucket", "Key"),
    "AWS::Lambda::Function": ("Code", "S3Bucket", "S3Key"),
    "AWS::Lambda::LayerVersion": ("Content", "S3Bucket", "S3Key"),
}
_FUNCTION_TYPES: Final = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES: Final = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")
_MISSING: Final = object()


@dataclass(frozen=True)
class LayerCode:
    content: Path  # zipped as the layer's content
    wrap_in_python: bool  # a source directory: the build would have put it under python/
    import_path: Path  # where a handler imports the layer's packages from (in Lambda: /opt/python)


@dataclass(frozen=True)
class Code:
    functions: dict[str, Path]  # logical id -> directory whose contents ship as the function
    layers: dict[str, LayerCode]  # logical id (as written in the template) -> layer code


def _local_code(resource: Mapping[str, Any], globals_: Mapping[str, Any]) -> str | None:
    """The local path a resource's code property names, or None for S3 or inline code."""
    prop = CODE_PROPERTIES[resource["Type"]][0]
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


def locate_code(source: Mapping[str, Any], template: Path, build_dir: Path | None) -> Code:
    globals_ = source.get("Globals") or {}
    template_dir = template.parent
    if build_dir is None:
        return _source_code(source, template_dir, globals_)
    build_dir = build_dir.resolve()
    built_template = build_dir / "template.yaml"
    if not built_template.is_file():
        raise BuildError(f"No build at {build_dir} (no template.yaml there): run `make build` (sam build) first")
    built = load_template(built_template)
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
    layers: dict[str, LayerCode] = {}
    for lid, resource in _code_resources(built, LAYER_TYPES).items():
        built_path = _local_code(resource, built_globals)
        source_path = _local_code(source["Resources"][lid], globals_)
        if built_path is None or source_path is None:
            raise StackError(f"{lid}: the harness needs local layer content, not S3")
        content = _checked_directory(build_dir / built_path, f"{lid}'s build output", build=True)
        source_dir = _checked_directory(template_dir / source_path, f"{lid}'s ContentUri", build=False)
        _compare_layer_packages(source_dir, content / "python", lid)
        layers[lid] = LayerCode(content, wrap_in_python=False, import_path=_layer_import_path(source_dir))
    return Code(functions, layers)


def _source_code(source: Mapping[str, Any], template_dir: Path, globals_: Mapping[str, Any]) -> Code:
    functions: dict[str, Path] = {}
    for lid, resource in _code_resources(source, _FUNCTION_TYPES).items():
        path = _local_code(resource, globals_)
        if path is None:
            raise StackError(f"{lid}: the harness needs local code (a CodeUri directory), not S3 or inline code")
        functions[lid] = _checked_directory(template_dir / path, f"{lid}'s CodeUri", build=False)
        _check_handler(lid, resource, globals_, functions[lid], build=False)
    layers: dict[str, LayerCode] = {}
    for lid, resource in _code_resources(source, LAYER_TYPES).items():
        path = _local_code(resource, globals_)
        if path is None:
            raise StackError(f"{lid}: the harness needs local layer content, not S3")
        directory = _checked_directory(template_dir / path, f"{lid}'s ContentUri", build=False)
        import_path = _layer_import_path(directory)
        layers[lid] = LayerCode(directory, wrap_in_python=import_path == directory, import_path=import_path)
    return Code(functions, layers)


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


def shipped_files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _compare_copies(source_dir: Path, built_dir: Path, lid: str, *, makefile: bool) -> None:
    """Source files must ship unchanged: every one of them (the build may add dependencies), or,
    when a Makefile picks what ships, every one it copied."""
    built = shipped_files(built_dir)
    stale = [
        name
        for name, content in shipped_files(source_dir).items()
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
            source_files = shipped_files(entry)
            built_files = shipped_files(built_entry) if built_entry.is_dir() else {}
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
        for key in ("CodeUri", "ContentUri", "Code", "Content", "DefinitionUri", "Location", "TemplateURL"):
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
        pairs = [(f"{path}.{key}", left.get(key, _MISSING), right.get(key, _MISSING)) for key in keys]
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        pairs = [(f"{path}[{index}]", one, other) for index, (one, other) in enumerate(zip(left, right, strict=True))]
    else:
        return None if left == right else (path.lstrip(".") or "(top)")
    for where, one, other in pairs:
        found = _first_difference(one, other, where)
        if found is not None:
            return found
    return None


def default_build_dir(template: Path) -> Path:
    """Where ``sam build`` (``make build``) puts its output for this template."""
    return template.resolve().parent / BUILD_DIR_NAME

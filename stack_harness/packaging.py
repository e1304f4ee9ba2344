"""What ``sam package`` does: each code directory zipped, uploaded to the embedded S3, the template pointed at it."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from stack_harness.aws import Aws
from stack_harness.code import CODE_PROPERTIES, Code, shipped_files


def _zip_directory(directory: Path, prefix: str = "") -> bytes:
    """A deterministic zip: same files, same bytes, so the code's SHA-256 means something."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in shipped_files(directory).items():
            info = zipfile.ZipInfo(prefix + name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _inline_local_files(packaged: dict[str, Any], template_dir: Path) -> None:
    """A state machine's DefinitionUri and a StackSet's TemplateURL that name local files: ``sam
    package`` uploads them and points the template at S3; the embedded AWS reads them inline,
    which is what CloudFormation then does with the upload."""
    for lid, resource in packaged.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(properties.get("DefinitionUri"), str):
            path = template_dir / properties.pop("DefinitionUri")
            if not path.is_file():
                raise FileNotFoundError(f"{lid}: DefinitionUri {path} does not exist")
            properties["Definition"] = json.loads(path.read_text())
        if resource.get("Type") == "AWS::CloudFormation::StackSet" and isinstance(properties.get("TemplateURL"), str):
            if properties["TemplateURL"].startswith(("https://", "s3://")):
                continue
            path = template_dir / properties.pop("TemplateURL")
            if not path.is_file():
                raise FileNotFoundError(f"{lid}: TemplateURL {path} does not exist")
            properties["TemplateBody"] = path.read_text()


def package_template(
    source: Mapping[str, Any], code: Code, aws: Aws, stack_name: str, template_dir: Path
) -> dict[str, Any]:
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
        prop, bucket_key, key_key = CODE_PROPERTIES[resource["Type"]]
        key = f"{stack_name}/{lid}-{hashlib.sha256(archive).hexdigest()[:16]}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=archive)
        resource.setdefault("Properties", {})[prop] = {bucket_key: bucket, key_key: key}
    function_globals = (packaged.get("Globals") or {}).get("Function") or {}
    function_globals.pop("CodeUri", None)  # every function now has its own
    _inline_local_files(packaged, template_dir)
    return packaged

"""Deployment tests: the real template.yaml, built by `sam build`, deployed to the embedded AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from embedded_aws import embedded_aws
from embedded_aws.calls import ApiCalls, count_api_calls

if TYPE_CHECKING:
    from stack_harness import DeployedStack

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STACK_NAME = "bedrock-governance"
REGION = "us-east-1"

pytestmark = pytest.mark.deployment


@pytest.fixture
def aws() -> Iterator[None]:
    with embedded_aws():
        yield


@pytest.fixture
def deploy(aws: None) -> Callable[..., DeployedStack]:
    """Deploy the stack with the given parameter overrides (strings, as CloudFormation takes them)."""

    from stack_harness import default_build_dir, deploy_stack  # noqa: PLC0415 - only deployment tests need it

    def _deploy(**parameters: str) -> DeployedStack:
        # The code that runs is the code `sam build` packaged, checked against the source tree.
        return deploy_stack(
            TEMPLATE,
            stack_name=STACK_NAME,
            parameters=parameters,
            region=REGION,
            build_dir=default_build_dir(TEMPLATE),
        )

    return _deploy


@pytest.fixture
def api_calls() -> Iterator[ApiCalls]:
    with count_api_calls() as calls:
        yield calls

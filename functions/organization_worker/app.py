"""OrganizationWorkerFunction: the organization state machines' targets step and their Map's workers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.org.steps import WorkerConfig, worker_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # {"step": "targets"} lists the accounts; {"step": "sweep", "target": {...}} reads one of them.
    return worker_step(event, WorkerConfig.from_env(), ClientFactory())

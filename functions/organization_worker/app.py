"""OrganizationWorkerFunction: the organization state machines' targets step and their Map's workers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.org import custom_resource
from bedrock_governance.org.steps import WorkerConfig, worker_step

logger = Logger()


@logger.inject_lambda_context(log_event=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # {"step": "targets"} lists the accounts; {"step": "sweep", "target": {...}} reads one of them;
    # CloudFormation asks it for the root id (Custom::OrganizationRoot).
    if custom_resource.is_custom_resource_request(event):
        return custom_resource.handle(event, ClientFactory())
    return worker_step(event, WorkerConfig.from_env(), ClientFactory())

"""TagComplianceFunction: every application inference profile carries the required tags."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.events import scheduled_run_time
from bedrock_governance.core.metrics import record_tag_compliance
from bedrock_governance.tags.config import TagComplianceConfig
from bedrock_governance.tags.job import TagComplianceJob

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = TagComplianceConfig.from_env()
    job = TagComplianceJob.from_config(config, ClientFactory())
    result = job.run(now=scheduled_run_time(event))
    record_tag_compliance(metrics, result)
    return result.summary()

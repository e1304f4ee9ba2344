"""IdleProfileFunction: warn about idle application inference profiles and clean them up safely."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.events import flag, scheduled_run_time
from bedrock_governance.core.metrics import record_idle_profiles
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = IdleConfig.from_env()
    # {"dryRun": true} in an on-demand event forces a dry run; it cannot turn deletion on.
    job = IdleProfileJob.from_config(config, ClientFactory(), dry_run=flag(event, "dryRun"))
    result = job.run(now=scheduled_run_time(event))
    record_idle_profiles(metrics, result)
    # A message that could not be sent fails the invocation (alarm), after the work is done and counted.
    result.raise_if_alert_failed()
    return result.summary()

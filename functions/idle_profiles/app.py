"""IdleProfileFunction: warn about idle application inference profiles and clean them up safely."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.events import dry_run_requested, scheduled_run_time
from bedrock_governance.core.metrics import record
from bedrock_governance.idle.config import IdleConfig
from bedrock_governance.idle.job import IdleProfileJob
from bedrock_governance.idle.organization import aggregate_idle_step
from bedrock_governance.org.config import OrganizationConfig
from bedrock_governance.org.job import is_aggregation

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The same steps in every function. {"dryRun": true} computes and logs, and changes nothing.
    config = IdleConfig.from_env()
    scope = OrganizationConfig.from_env()  # read at start: a malformed scope fails every run, not just some
    if is_aggregation(event):  # the last step of IdleProfileStateMachine (organization scope)
        result = aggregate_idle_step(event, config, scope, ClientFactory())
    else:
        job = IdleProfileJob.from_config(config, ClientFactory(), dry_run=dry_run_requested(event))
        result = job.run(now=scheduled_run_time(event))
    # Metrics first: a message that could not be sent fails the invocation (alarm), never the counts.
    record(metrics, result)
    result.raise_if_alert_failed()
    return result.summary()

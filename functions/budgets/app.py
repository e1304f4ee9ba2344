"""BudgetFunction: one AWS Budget per project that owns Bedrock inference profiles, kept in step."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.budgets.config import BudgetConfig
from bedrock_governance.budgets.job import BudgetJob
from bedrock_governance.core.events import flag, scheduled_run_time
from bedrock_governance.core.metrics import record_budgets

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = BudgetConfig.from_env()
    # {"dryRun": true} in an on-demand event plans and reports without writing anything.
    job = BudgetJob.from_config(config, ClientFactory(), dry_run=flag(event, "dryRun") is True)
    result = job.run(now=scheduled_run_time(event))
    record_budgets(metrics, result)
    return result.summary()

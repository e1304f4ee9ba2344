"""CostReportFunction: last week's Bedrock spend per project, from Cost Explorer to the inbox."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.core.events import flag, scheduled_run_time
from bedrock_governance.core.metrics import record_cost_report
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.job import CostReportJob

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(log_event=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = CostReportConfig.from_env()
    # {"dryRun": true} compiles and logs the report without publishing or writing to S3.
    job = CostReportJob.from_config(config, ClientFactory(), dry_run=flag(event, "dryRun") is True)
    result = job.run(now=scheduled_run_time(event))
    record_cost_report(metrics, result)
    return result.summary()

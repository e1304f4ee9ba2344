"""The weekly cost report: ask Cost Explorer and AWS Budgets, build the report, publish it.

Cost Explorer bills every request, pages included (USD 0.01 each), so one report makes three
requests whatever the number of projects, plus the pages of the second:

1. ``GetDimensionValues`` SERVICE ~ "Bedrock" over the window: every Bedrock service name,
   Marketplace models included;
2. ``GetCostAndUsage`` over the whole 8-week window, DAILY, grouped by the tag and SERVICE,
   filtered to those names (skipped when there are none);
3. ``ListCostAllocationTags`` for the grouping key and the required tag keys (at most 20 keys a
   request; one request for the usual handful).

AWS Budgets ``DescribeBudgets`` is not a Cost Explorer request and costs nothing. It and
``ListCostAllocationTags`` are optional: when either fails the report goes out without it and
says so. Only the Cost Explorer figures (requests 1 and 2) failing fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aws_lambda_powertools import Logger

from bedrock_governance.aws import ports
from bedrock_governance.aws.budgets import Budgets
from bedrock_governance.aws.clients import ClientFactory
from bedrock_governance.aws.costexplorer import CostExplorer
from bedrock_governance.aws.s3 import JsonStore
from bedrock_governance.aws.sns import SnsPublisher
from bedrock_governance.core.arn import region_of
from bedrock_governance.core.errors import AccessDenied, AwsError, DataUnavailable, PagingError
from bedrock_governance.core.models import BudgetSnapshot
from bedrock_governance.core.notify import Notification, fit
from bedrock_governance.core.results import publish, raise_if_alert_failed
from bedrock_governance.cost.config import CostReportConfig
from bedrock_governance.cost.policy import (
    CostData,
    CostReport,
    SourceProblem,
    Week,
    build_cost_report,
    cents,
    cost_request,
    held_back_week,
    parse_cost_results,
    report_weeks,
    with_problem,
)
from bedrock_governance.cost.render import ReportFiles, item_count, render, render_access_alert, render_csv, render_html

logger = Logger(child=True)

#: Cost Explorer requests of one report before pagination (see the module docstring).
COST_EXPLORER_REQUESTS: Final = 3


def _problem(error: AwsError) -> SourceProblem:
    return SourceProblem(
        service=error.service,
        operation=error.operation,
        code=error.code,
        message=error.aws_message,
        access_denied=isinstance(error, AccessDenied),
    )


@dataclass(frozen=True)
class CostReportResult:
    report: CostReport
    notification: Notification | None
    message_id: str | None
    alert: Notification | None
    alert_message_id: str | None
    files: ReportFiles
    alert_error: str | None = None
    dry_run: bool = False

    @property
    def access_problems(self) -> tuple[SourceProblem, ...]:
        return tuple(problem for problem in self.report.problems if problem.access_denied)

    def metric_counts(self) -> dict[str, int]:
        report = self.report
        return {
            "CostReportsPublished": 1 if self.message_id else 0,
            "CostReportProjectsWithSpend": len(report.projects),
            "CostReportFlags": len(report.flags),
            "CostReportSourcesDenied": len(self.access_problems),
            "CostReportDataUnavailable": 1 if report.status.value == "data-unavailable" else 0,
        }

    def metric_amounts(self) -> dict[str, float]:
        report = self.report
        if not report.has_figures:
            return {}
        # Whole-account Bedrock spend per week, so a dashboard can chart it without Cost Explorer.
        return {
            "BedrockWeeklySpendUSD": float(report.total.this_week),
            "BedrockWeeklyUntaggedSpendUSD": float(report.untagged.this_week),
        }

    def region_counts(self) -> dict[str, dict[str, int]]:
        return {}

    def raise_if_alert_failed(self) -> None:
        raise_if_alert_failed("Cost report", self.alert_error)

    def summary(self) -> dict[str, Any]:
        report = self.report
        return {
            "week": report.week.label(),
            "weekStart": report.week.start.isoformat(),
            "status": report.status.value,
            "total": str(cents(report.total.this_week)),
            "previousTotal": str(cents(report.total.previous_week)),
            "projects": len(report.projects),
            "untagged": str(cents(report.untagged.this_week)),
            "bedrockServices": list(report.service_names),
            "estimated": report.week_is_estimated,
            "flags": [flag.kind.value for flag in report.flags],
            "problems": [problem.describe() for problem in report.problems],
            "messageId": self.message_id,
            "alertMessageId": self.alert_message_id,
            "html": self.files.html_uri,
            "csv": self.files.csv_uri,
            "dryRun": self.dry_run,
            "alertError": self.alert_error,
        }


class CostReportJob:
    """Reads, builds and publishes. A dry run compiles and logs the report; it publishes nothing
    and writes nothing to S3."""

    def __init__(
        self,
        config: CostReportConfig,
        *,
        cost_explorer: ports.CostReports,
        budgets: ports.BudgetReader,
        publisher: ports.Publisher | None,
        store: ports.ReportStore | None,
        alert_publisher: ports.Publisher | None = None,
        dry_run: bool = False,
    ) -> None:
        self._dry_run = dry_run
        self._config = config
        self._ce = cost_explorer
        self._budgets = budgets
        self._publisher = publisher
        self._alert_publisher = alert_publisher or publisher
        self._store = store

    @classmethod
    def from_config(cls, config: CostReportConfig, clients: ClientFactory, *, dry_run: bool = False) -> CostReportJob:
        report_region, alert_region = region_of(config.report_topic_arn), region_of(config.alert_topic_arn)
        home = clients.default_region or report_region
        store = JsonStore(clients.s3(home), config.report_bucket) if config.report_bucket else None
        return cls(
            config,
            cost_explorer=CostExplorer(clients.cost_explorer()),
            budgets=Budgets(clients.budgets(), config.account_id),
            publisher=None if dry_run else SnsPublisher(clients.sns(report_region)),
            store=None if dry_run else store,
            alert_publisher=None if dry_run else SnsPublisher(clients.sns(alert_region)),
            dry_run=dry_run,
        )

    def _read_costs(
        self, weeks: tuple[Week, ...], problems: list[SourceProblem]
    ) -> tuple[tuple[str, ...], CostData | None]:
        start, end = weeks[0].start, weeks[-1].end
        # A paging error would only repeat on a retry (and bill again): the report says it instead.
        try:
            names = self._ce.bedrock_service_names(start, end)
        except (AccessDenied, DataUnavailable, PagingError) as error:
            problems.append(_problem(error))
            return (), None
        if not names:
            # Nothing billed under a Bedrock name in the window: no need to pay for a query.
            return names, CostData((), frozenset())
        try:
            results = self._ce.cost_and_usage(cost_request(weeks, names, self._config.tag_key))
        except (AccessDenied, DataUnavailable, PagingError) as error:
            problems.append(_problem(error))
            return names, None
        return names, parse_cost_results(results, self._config.tag_key)

    def _read_tag_statuses(self, problems: list[SourceProblem]) -> dict[str, str] | None:
        keys = list(dict.fromkeys((self._config.tag_key, *self._config.required_tag_keys)))
        # Optional: the figures do not need it. Any failure (denied, throttled past the retries,
        # 5xx, unreachable) degrades the report, which says so; only Cost Explorer's figures fail a run.
        try:
            return self._ce.cost_allocation_tag_status(keys)
        except AwsError as error:
            logger.warning("Cost allocation tag statuses not read", extra={"error": str(error)})
            problems.append(_problem(error))
            return None

    def _read_budgets(self, problems: list[SourceProblem]) -> list[BudgetSnapshot] | None:
        # Optional, as the tag statuses above: the report goes out without the budgets and says so.
        try:
            return self._budgets.describe_budgets()
        except AwsError as error:
            logger.warning("Budgets not read", extra={"error": str(error)})
            problems.append(_problem(error))
            return None

    def _write_files(self, report: CostReport) -> tuple[ReportFiles, SourceProblem | None]:
        if self._store is None:
            return ReportFiles(), None
        config = self._config
        base = f"{config.report_prefix}{report.week.start:%Y}/bedrock-cost-{report.week.start.isoformat()}"
        try:
            html_uri = self._store.put_bytes(f"{base}.html", render_html(report).encode(), "text/html; charset=utf-8")
            csv_uri = self._store.put_bytes(f"{base}.csv", render_csv(report).encode(), "text/csv; charset=utf-8")
        except AwsError as error:
            # The mail still goes out; the missing files are named in it and alerted when denied.
            logger.warning("Could not write the report files", extra={"error": str(error)})
            return ReportFiles(problem=f"{error.code}: {error.aws_message}"), _problem(error)
        console = f"https://s3.console.aws.amazon.com/s3/object/{self._store.bucket}?prefix={base}.html"
        return ReportFiles(html_uri=html_uri, csv_uri=csv_uri, html_console_url=console), None

    def run(self, now: datetime) -> CostReportResult:
        config = self._config
        moment = now if now.tzinfo else now.replace(tzinfo=UTC)
        weeks = report_weeks(moment, config.timezone)
        problems: list[SourceProblem] = []
        names, costs = self._read_costs(weeks, problems)
        tag_statuses = self._read_tag_statuses(problems)
        budgets = self._read_budgets(problems)
        report = build_cost_report(
            now=moment.astimezone(config.timezone),
            timezone_name=config.timezone_name,
            tag_key=config.tag_key,
            required_tag_keys=config.required_tag_keys,
            weeks=weeks,
            service_names=names,
            costs=costs,
            tag_statuses=tag_statuses,
            budgets=budgets,
            problems=problems,
            held_back=held_back_week(moment, config.timezone),
        )
        files, files_problem = self._write_files(report) if report.has_figures else (ReportFiles(), None)
        if files_problem is not None:
            report = with_problem(report, files_problem)
            problems.append(files_problem)
        notification = fit(lambda limit: render(report, limit, files), min(config.top_projects, item_count(report)))
        denied = tuple(problem for problem in problems if problem.access_denied)
        alert = render_access_alert(report, denied) if denied else None
        logger.info(
            "Cost report compiled",
            extra={
                "week": report.week.label(),
                "status": report.status.value,
                "total": str(report.total.this_week),
                "projects": len(report.projects),
                "flags": [flag.kind.value for flag in report.flags],
                "problems": [problem.describe() for problem in problems],
            },
        )
        # The whole report is in the logs whatever happens to the publish below.
        logger.info("Cost report", extra={"report": dict(notification.document)})
        alert_id: str | None = None
        message_id: str | None = None
        errors: list[str] = []
        if alert is not None and self._alert_publisher:
            # First: if the report's publish fails and the run is retried, the operators still heard why.
            alert_id, error = publish(self._alert_publisher, config.alert_topic_arn, alert, "Cost report access alert")
            errors += [f"access alert: {error}"] if error else []
        if self._publisher:
            message_id, error = publish(self._publisher, config.report_topic_arn, notification, "Cost report")
            errors += [f"report: {error}"] if error else []
        return CostReportResult(
            report=report,
            notification=notification,
            message_id=message_id,
            alert=alert,
            alert_message_id=alert_id,
            files=files,
            alert_error="; ".join(errors) or None,
            dry_run=self._dry_run,
        )

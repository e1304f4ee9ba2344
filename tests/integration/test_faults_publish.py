"""SNS publish failing: the findings are still in the logs, and the invocation fails so the alarm fires.

The fault is the one an encrypted topic gives when its key policy is wrong (``KMSAccessDenied``):
not retryable, so the run sees it at once. Each function is checked for both halves: what it found
is in its structured logs, and the handler raises (Lambda counts an Errors datapoint, which the
stack's ``<Function>ErrorsAlarm`` turns into a message to AlertTopic).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from bedrock_governance.core.errors import AlertNotPublished
from bedrock_governance.core.models import IDLE_SINCE_TAG
from embedded_aws.faults import Fault, inject_faults
from embedded_aws.inbox import sent_messages
from embedded_aws.seed import ALLOWED_TAG_VALUES, Compliance, EstateSpec, Usage, seed_estate
from tests.integration.support import REGIONS, alerts, log_records, run, tags_of

if TYPE_CHECKING:
    from stack_harness import DeployedStack

pytestmark = pytest.mark.deployment

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday: the cost report covers 16-22 Nov
KMS_DENIED = Fault("sns", "Publish", "KMSAccessDenied", 400, "User is not authorized to use the topic's KMS key")


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[dict[str, Any]]:
    """The structured fields of the log lines with ``message`` (Powertools puts them on the record)."""
    return [dict(record.__dict__) for record in caplog.records if record.getMessage() == message]


def test_tag_compliance_fails_the_run_keeps_the_findings_in_the_logs_and_alerts_next_time(
    deploy: Callable[..., DeployedStack], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS), AllowedTagValues=json.dumps(ALLOWED_TAG_VALUES))
    estate = seed_estate(EstateSpec(profiles=20, regions=REGIONS, now=NOW, usage=False, costs=False))
    violating = {p.arn for p in estate.profiles if p.compliance is not Compliance.COMPLIANT}
    caplog.clear()
    capsys.readouterr()

    with inject_faults(KMS_DENIED), pytest.raises(AlertNotPublished, match="KMSAccessDenied"):
        run(stack, "TagComplianceFunction", NOW)

    (record,) = logged(caplog, "Tag compliance alert")
    assert {finding["arn"] for finding in record["alert"]["findings"]} == violating
    # The run's metrics are recorded before it fails: nothing published, every finding counted.
    (emf,) = [r for r in log_records(capsys.readouterr().out) if "_aws" in r and "NonCompliantProfiles" in r]
    assert emf["NonCompliantProfiles"] in (len(violating), float(len(violating)), [float(len(violating))])
    assert emf["AlertsPublished"] in (0, 0.0, [0.0])
    assert alerts(stack) == []
    # The alert state was not advanced, so the next run sends what the failed one could not.
    retry = run(stack, "TagComplianceFunction", NOW + timedelta(hours=1))
    assert retry["messageId"] is not None
    (alert,) = alerts(stack)
    assert alert.document is not None
    assert {finding["arn"] for finding in alert.document["findings"]} == violating


def test_the_idle_sweep_finishes_its_actions_then_fails_the_run(
    deploy: Callable[..., DeployedStack], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS))
    estate = seed_estate(EstateSpec(profiles=24, regions=REGIONS, now=NOW, usage=True, costs=False))
    idle = {p.arn for p in estate.where(usage=Usage.IDLE)}
    assert idle
    caplog.clear()
    capsys.readouterr()

    with inject_faults(KMS_DENIED), pytest.raises(AlertNotPublished, match="KMSAccessDenied"):
        run(stack, "IdleProfileFunction", NOW)

    # Every action was carried out before the run failed...
    for arn in idle:
        assert tags_of(arn)[IDLE_SINCE_TAG] == NOW.date().isoformat()
    # ... the whole message is in the logs ...
    (alert,) = logged(caplog, "Idle profile alert")
    assert {item["arn"] for item in alert["alert"]["profiles"]} == idle
    # ... and so are the run's metrics (flushed on the way out), the failed publish counted.
    (emf,) = [r for r in log_records(capsys.readouterr().out) if "_aws" in r and "IdleAlertsFailed" in r]
    assert emf["IdleAlertsFailed"] in (1, 1.0, [1.0])
    assert alerts(stack) == []


def test_the_cost_report_fails_the_run_and_its_figures_are_in_the_logs(
    deploy: Callable[..., DeployedStack], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = deploy()
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    caplog.clear()
    capsys.readouterr()

    with inject_faults(KMS_DENIED), pytest.raises(AlertNotPublished, match="KMSAccessDenied"):
        run(stack, "CostReportFunction", NOW)

    # The run's metrics are recorded before it fails: the report counted, not published.
    (emf,) = [r for r in log_records(capsys.readouterr().out) if "_aws" in r and "CostReportsPublished" in r]
    assert emf["CostReportsPublished"] in (0, 0.0, [0.0])
    assert "BedrockWeeklySpendUSD" in emf

    (record,) = logged(caplog, "Cost report")
    report = record["report"]
    assert report["type"] == "cost-report"
    assert report["projects"], "the per-project figures are in the logs"
    assert sent_report_count(stack) == 0


def sent_report_count(stack: DeployedStack) -> int:
    return len(sent_messages(stack.outputs["ReportTopicArn"]))


def test_the_budget_run_fails_after_its_changes_and_announces_them_next_time(
    deploy: Callable[..., DeployedStack], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = deploy(GovernedRegions=",".join(REGIONS))
    seed_estate(EstateSpec(profiles=12, regions=REGIONS, now=NOW, usage=False, costs=True))
    caplog.clear()
    capsys.readouterr()

    with inject_faults(KMS_DENIED), pytest.raises(AlertNotPublished, match="KMSAccessDenied"):
        run(stack, "BudgetFunction", NOW)

    (record,) = logged(caplog, "Budget summary")
    created = {change["name"] for change in record["summary"]["created"]}
    assert created
    # The run's metrics are recorded before it fails: the budgets it created are counted.
    (emf,) = [r for r in log_records(capsys.readouterr().out) if "_aws" in r and "BudgetsCreated" in r]
    assert emf["BudgetsCreated"] in (len(created), float(len(created)), [float(len(created))])
    assert emf["BudgetSummariesPublished"] in (0, 0.0, [0.0])
    assert alerts(stack) == []
    # The budgets exist already; the next run changes nothing and tells what the failed one did.
    again = run(stack, "BudgetFunction", NOW + timedelta(days=1))
    assert again["budgetsInStep"] == len(created)
    (summary,) = alerts(stack)
    assert summary.document is not None
    assert {change["name"] for change in summary.document["created"]} == created

"""`make demo` tells the truth: it runs start to finish and produces what the README says it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from programs import demo

pytestmark = pytest.mark.deployment


def test_the_demo_runs_the_whole_timeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--profiles", "72", "--output", str(tmp_path), "--lines", "5"]) == 0
    console = capsys.readouterr().out
    mails = sorted(path.name for path in tmp_path.glob("0*.txt"))
    assert mails == [
        "01-budgets.txt",
        "02-idle-first-sweep.txt",
        "03-tag-compliance-digest.txt",
        "04-cost-report.txt",
        "05-tag-compliance-changes.txt",
        "06-idle-after-grace-dry-run.txt",
        "07-idle-deletions.txt",
        "08-organization-tag-compliance.txt",
        "09-organization-idle.txt",
    ]
    assert "Subject: Bedrock budgets: 6 created" in (tmp_path / "01-budgets.txt").read_text()
    assert "newly idle" in (tmp_path / "02-idle-first-sweep.txt").read_text()
    assert "Subject: Bedrock spend " in (tmp_path / "04-cost-report.txt").read_text()
    assert "RESOLVED (1)" in (tmp_path / "05-tag-compliance-changes.txt").read_text()
    assert "would be deleted" in (tmp_path / "06-idle-after-grace-dry-run.txt").read_text()
    deletions = (tmp_path / "07-idle-deletions.txt").read_text()
    assert "DELETION CAP REACHED" in deletions
    assert "Deletion record (to re-create it): s3://" in deletions
    # The second timeline: one stack for a whole organization, one alert with a section per account.
    organization = (tmp_path / "08-organization-tag-compliance.txt").read_text()
    assert "accounts x 2 regions" in organization
    assert "has the StackSet reached this account?" in organization
    assert "status SUSPENDED" in organization
    assert "  Account " in organization
    assert "newly idle" in (tmp_path / "09-organization-idle.txt").read_text()
    assert "ToleratedFailurePercentage" not in console  # moto's own notes go to the log file
    html = list(tmp_path.glob("bedrock-cost-*.html"))
    assert len(html) == 1
    assert "<svg" in html[0].read_text()
    assert "nothing changed, so nothing is sent" in console
    assert "new ARN arn:aws:bedrock:" in console
    # The functions' own logs go to a file, not over the story.
    assert '"level":"INFO"' not in console
    assert (tmp_path / "function-logs.jsonl").stat().st_size > 0

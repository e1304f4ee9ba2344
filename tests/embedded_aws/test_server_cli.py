"""`python -m embedded_aws.server --seed demo`: the emulator the tests use, from any directory,
with the demo estate loaded, so that the README's command-line examples show something.

The server runs as a separate process started in an empty directory without PYTHONPATH: only
the installed project makes ``embedded_aws`` importable there.
"""

from __future__ import annotations

import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_governance.cli import EXIT_OK, main
from embedded_aws.seed import DEFAULT_REGIONS, DEMO_PROFILES
from tests.conftest import FAKE_ENV

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

REGIONS = ",".join(DEFAULT_REGIONS)
STARTUP_SECONDS = 120


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    lines: list[str]
    endpoint: str
    _pending: queue.Queue[str | None]

    def read_until(self, marker: str, timeout: float = STARTUP_SECONDS) -> list[str]:
        """Lines printed up to and including the first one containing ``marker``."""
        seen: list[str] = []
        while True:
            line = self._pending.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the server exited before printing {marker!r}: {self.lines}")
            seen.append(line)
            if marker in line:
                return seen


def start(tmp_path: Path, *args: str) -> ServerProcess:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, "-m", "embedded_aws.server", "--port", "0", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    pending: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            pending.put(line.rstrip("\n"))
        pending.put(None)

    threading.Thread(target=pump, daemon=True).start()
    server = ServerProcess(process, lines, "", pending)
    first = server.read_until("listening on")[-1]
    match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
    assert match, first
    server.endpoint = match.group(1)
    return server


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start(tmp_path_factory.mktemp("elsewhere"), "--seed", "demo")
    try:
        server.read_until("Press Ctrl-C to stop.")
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_it_prints_the_endpoint_the_exports_and_the_examples(seeded: ServerProcess) -> None:
    printed = "\n".join(seeded.lines)
    assert f"  export AWS_ENDPOINT_URL={seeded.endpoint}" in seeded.lines
    exports = " ".join(
        f"{name}={FAKE_ENV[name]}" for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    )
    assert f"  export {exports}" in seeded.lines
    assert f"{DEMO_PROFILES} profiles in us-east-1, eu-central-1, ap-southeast-2" in printed
    for command in ("check tags", "check idle", "report cost", "sync budgets"):
        assert f"  bedrock-governance {command} " in printed
    # No request log between the lines a person copies.
    assert '"POST / HTTP/1.1"' not in printed


def test_check_tags_finds_the_seeded_violations(seeded: ServerProcess) -> None:
    code, out, err = run_cli(
        "check", "tags", "--region", "us-east-1", "--regions", REGIONS, "--endpoint-url", seeded.endpoint
    )
    assert (code, err) == (EXIT_OK, "")
    assert re.search(rf"\d+ of {DEMO_PROFILES} profiles non-compliant \(3 regions\)", out)
    assert "missing tag" in out


def test_check_idle_finds_idle_profiles_in_the_seeded_usage(seeded: ServerProcess) -> None:
    code, out, err = run_cli(
        "check", "idle", "--region", "us-east-1", "--regions", REGIONS, "--endpoint-url", seeded.endpoint
    )
    assert (code, err) == (EXIT_OK, "")
    assert re.search(r"[1-9]\d* newly idle", out)
    assert re.search(r"[1-9]\d* in use", out)


def test_report_cost_reports_the_seeded_ledger(seeded: ServerProcess) -> None:
    code, out, err = run_cli("report", "cost", "--region", "us-east-1", "--endpoint-url", seeded.endpoint)
    assert (code, err) == (EXIT_OK, "")
    assert "SPEND BY PROJECT" in out
    assert "Chatbot" in out
    assert re.search(r"Total .*\$[1-9][\d,]*\.\d\d", out)


def test_sync_budgets_plans_one_budget_per_seeded_project(seeded: ServerProcess) -> None:
    code, out, err = run_cli(
        "sync", "budgets", "--region", "us-east-1", "--regions", REGIONS,
        "--project-budgets", '{"Chatbot": 500}', "--endpoint-url", seeded.endpoint,
    )  # fmt: skip
    assert (code, err) == (EXIT_OK, "")
    assert "Would create 6" in out
    assert "bedrock-project-Chatbot" in out


def test_the_installed_command_line_works_with_the_printed_exports(seeded: ServerProcess, tmp_path: Path) -> None:
    exports = dict(
        pair.split("=", 1)
        for line in seeded.lines
        if line.startswith("  export ")
        for pair in line.removeprefix("  export ").split()
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")} | exports
    command = Path(sys.executable).with_name("bedrock-governance")
    result = subprocess.run(
        [str(command), "check", "tags", "--regions", REGIONS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stderr) == (EXIT_OK, "")
    assert f"of {DEMO_PROFILES} profiles non-compliant" in result.stdout


def _query(query_id: str, namespace: str, profile_id: str) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": profile_id}],
            },
            "Period": 86_400,
            "Stat": "Sum",
        },
    }


def test_cloudwatch_has_the_fidelity_of_the_tests(seeded: ServerProcess) -> None:
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=seeded.endpoint)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=10)
    profile_id = "decoydecoyde"
    cw.put_metric_data(
        Namespace="Custom/Elsewhere",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": profile_id}],
                "Timestamp": end - timedelta(days=2),
                "Value": 7.0,
            }
        ],
    )
    # An AWS/Bedrock query does not see another namespace's datapoints (plain moto would).
    [bedrock] = cw.get_metric_data(
        MetricDataQueries=[_query("m0", "AWS/Bedrock", profile_id)], StartTime=start, EndTime=end
    )["MetricDataResults"]
    assert bedrock["Values"] == []
    [elsewhere] = cw.get_metric_data(
        MetricDataQueries=[_query("m0", "Custom/Elsewhere", profile_id)], StartTime=start, EndTime=end
    )["MetricDataResults"]
    assert elsewhere["Values"] == [7.0]
    # AWS's limit of 500 queries a request.
    too_many = [_query(f"q{i}", "AWS/Bedrock", profile_id) for i in range(501)]
    with pytest.raises(ClientError, match="must not have a size greater than 500"):
        cw.get_metric_data(MetricDataQueries=too_many, StartTime=start, EndTime=end)
    # Metric math is refused, not answered with an empty series.
    with pytest.raises(ClientError) as error:
        cw.get_metric_data(
            MetricDataQueries=[_query("m0", "AWS/Bedrock", profile_id), {"Id": "e1", "Expression": "m0 * 2"}],
            StartTime=start,
            EndTime=end,
        )
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "does not evaluate metric math" in error.value.response["Error"]["Message"]


def test_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    server = start(tmp_path)
    try:
        server.read_until("Press Ctrl-C to stop.", timeout=60)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        assert server.read_until("Embedded AWS stopped.", timeout=5)
        assert not any("Traceback" in line for line in server.lines)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def test_the_console_script_runs_from_any_directory(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("embedded-aws")), "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "--seed {demo}" in result.stdout

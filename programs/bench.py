"""`make bench`: API calls, time and memory of each function as the estate grows.

    python -m programs.bench [--sizes 100,1000,5000] [--regions 1,3] [--output PATH]

The embedded AWS runs as a local HTTP server in this process; the real template is deployed to it
(as ``make demo`` does) and an estate is seeded with :func:`embedded_aws.seed.seed_estate`, its
CloudWatch usage over the 180 days the idle sweep reads (:func:`write_usage`), served by
:mod:`embedded_aws.indexed_cloudwatch` (moto's own GetMetricData would take hours here). Each
function's *handler* then runs once, the way its schedule invokes it, in a fresh subprocess whose
only AWS is the server: its calls cross a real HTTP boundary, and the subprocess's peak RSS
(``ru_maxrss``) is the function's own, as Lambda's "Max Memory Used" is. API calls are counted
from botocore's events (:func:`embedded_aws.calls.count_api_calls`). Beside them, in the same run,
the naive sweep a typical script makes: one ``list_tags_for_resource`` and one
``get_metric_statistics`` per profile.

Also measured: the import time of each handler module in a fresh interpreter (the cold-start
proxy) against a bare ``import boto3``, the built layer's zipped size, and the Cost Explorer
requests of one weekly report for 10 and 200 projects.

Prints one table and writes the same figures as JSON (``bench-results/bench.json``). Progress goes
to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3

from bedrock_governance.core.notify import table
from embedded_aws import credentials
from programs.organization_bench import OrganizationBenchSettings, render_rows, run_organization_bench

if TYPE_CHECKING:
    from embedded_aws.seed import Estate

ROOT: Final = Path(__file__).resolve().parents[1]
TEMPLATE: Final = ROOT / "template.yaml"
DEFAULT_OUTPUT: Final = ROOT / "bench-results" / "bench.json"
STACK_NAME: Final = "bedrock-governance-bench"
HOME_REGION: Final = "us-east-1"
ONE_REGION: Final = ("us-east-1",)
THREE_REGIONS: Final = ("us-east-1", "eu-central-1", "ap-southeast-2")
DEFAULT_SIZES: Final = (100, 1000, 5000)
CE_PROJECT_COUNTS: Final = (10, 200)
REPORT_BUCKET: Final = "bedrock-governance-bench-reports"
# Functions in the order their schedules make sense: budgets exist before the report reads them.
RUN_ORDER: Final = ("TagComplianceFunction", "IdleProfileFunction", "BudgetFunction", "CostReportFunction")
SHOWN_ORDER: Final = ("TagComplianceFunction", "IdleProfileFunction", "CostReportFunction", "BudgetFunction")
SHORT_NAMES: Final = {
    "TagComplianceFunction": "tag compliance",
    "IdleProfileFunction": "idle profiles",
    "CostReportFunction": "cost report",
    "BudgetFunction": "budgets",
}
HANDLER_DIRS: Final = {
    "TagComplianceFunction": "tag_compliance",
    "IdleProfileFunction": "idle_profiles",
    "CostReportFunction": "cost_report",
    "BudgetFunction": "budgets",
}
# Targets (issue 7), per region: ceil(N/1000) list, ceil(N/100) tag-read and ceil(N/500) metric
# calls, each plus this small constant.
SMALL_CONSTANT: Final = 2
IMPORT_RATIO_TARGET: Final = 1.5
CE_REQUEST_TARGET: Final = 3
# For the estimate of a run in AWS: Lambda gives one vCPU at 1,769 MB and a share below it, and
# AWS answers slower than a local server. The latency is an assumption, stated in the output.
FULL_VCPU_MB: Final = 1769
ASSUMED_CALL_LATENCY_S: Final = 0.2
# Clients of these services sweep one region each; the rest are called from the home region.
SWEEP_SERVICES: Final = frozenset({"bedrock", "resourcegroupstaggingapi", "cloudwatch"})
LIST_OPERATIONS: Final = frozenset({("bedrock", "ListInferenceProfiles")})
TAG_READ_OPERATIONS: Final = frozenset({("resourcegroupstaggingapi", "GetResources")})
# A profile the Tagging API leaves out (never tagged, or not yet visible) is read one by one: zero
# calls on a tagged estate, one per never-tagged profile otherwise. Counted apart from the bulk reads.
CONFIRM_OPERATIONS: Final = frozenset({("bedrock", "ListTagsForResource")})
NAIVE_TAG_OPERATIONS: Final = TAG_READ_OPERATIONS | CONFIRM_OPERATIONS
METRIC_OPERATIONS: Final = frozenset({("cloudwatch", "GetMetricData"), ("cloudwatch", "GetMetricStatistics")})
# The naive script reads the idle window the functions use (IdleDays' default).
NAIVE_USAGE_DAYS: Final = 30
# CloudWatch usage is seeded for the whole window the idle sweep reads (idle.USAGE_HISTORY_DAYS).
USAGE_DAYS: Final = 180
FAKE_CREDENTIALS: Final = credentials.FAKE_CREDENTIALS


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- what one run measured ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCount:
    service: str
    operation: str
    region: str
    calls: int
    attempts: int


@dataclass(frozen=True)
class RunMeasurement:
    """One handler (or naive sweep) run: calls as botocore saw them, time, CPU and memory."""

    calls: tuple[CallCount, ...]
    wall_s: float
    cpu_s: float
    rss_before_mb: float
    peak_rss_mb: float
    isolated: bool
    result: Mapping[str, Any] = field(default_factory=dict)
    phases: Mapping[str, float] = field(default_factory=dict)

    def count(self, operations: frozenset[tuple[str, str]] | None = None, region: str | None = None) -> int:
        return sum(
            c.calls
            for c in self.calls
            if (operations is None or (c.service, c.operation) in operations) and (region is None or c.region == region)
        )

    def by_operation(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for c in self.calls:
            key = f"{c.service}:{c.operation}"
            totals[key] = totals.get(key, 0) + c.calls
        return dict(sorted(totals.items()))

    def writes(self) -> int:
        return sum(n for name, n in self.by_operation().items() if _is_write(name.split(":", 1)[1]))


def _is_write(operation: str) -> bool:
    from embedded_aws.calls import _WRITE_PREFIXES  # noqa: PLC0415 - the one definition of a write

    return operation.startswith(_WRITE_PREFIXES)


def _status_mb(field_name: str) -> float:
    """A memory figure of this process from /proc/self/status (reported in kB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field_name}")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child spawned by a large
    # parent would report the parent's size. VmHWM is the peak of this process's own memory.
    return _status_mb("VmHWM")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def _measured(isolated: bool) -> Iterator[dict[str, Any]]:
    """Counts calls of clients created inside, and times the block; fills the yielded dict."""
    from embedded_aws.calls import count_api_calls  # noqa: PLC0415 - imported where it is measured

    facts: dict[str, Any] = {"rss_before_mb": _rss_mb()}
    cpu, started = _cpu_s(), time.perf_counter()
    with count_api_calls() as counted:
        yield facts
    facts["wall_s"] = time.perf_counter() - started
    facts["cpu_s"] = _cpu_s() - cpu
    facts["peak_rss_mb"] = _peak_rss_mb()
    facts["isolated"] = isolated
    facts["calls"] = tuple(
        CallCount(service, operation, region, n, counted.attempts.get((service, operation, region), 0))
        for (service, operation, region), n in sorted(counted.calls.items())
    )


def _measurement(facts: Mapping[str, Any], **extra: Any) -> RunMeasurement:
    return RunMeasurement(
        calls=facts["calls"],
        wall_s=facts["wall_s"],
        cpu_s=facts["cpu_s"],
        rss_before_mb=facts["rss_before_mb"],
        peak_rss_mb=facts["peak_rss_mb"],
        isolated=facts["isolated"],
        **extra,
    )


# --- running a handler and the naive sweep (in a subprocess, or in-process for the tests) ----------


@dataclass(frozen=True)
class HandlerRun:
    """Everything a fresh process needs to invoke one deployed function the way Lambda would."""

    logical_id: str
    code_dir: str
    handler: str
    layer_paths: tuple[str, ...]
    variables: Mapping[str, str]
    event: Mapping[str, Any]
    function_name: str
    function_arn: str
    memory_size: int
    timeout: int
    log_group: str


@dataclass(frozen=True)
class NaiveRun:
    """The typical script: list, then one tag read and one metric read per profile, region by region."""

    endpoint_url: str
    regions: tuple[str, ...]
    now: str


def run_handler(run: HandlerRun, *, isolated: bool) -> RunMeasurement:
    from stack_harness.invoke import (  # noqa: PLC0415 - the measured process imports it late
        LambdaContext,
        fresh_handler,
        lambda_environment,
        marshal_response,
        new_request_id,
    )

    # Powertools writes its logs and metrics to stdout; the child's stdout goes nowhere, the
    # in-process (test) run's into a buffer, so only the table reaches the terminal.
    sink = io.StringIO()
    with (
        contextlib.redirect_stdout(sink),
        lambda_environment(run.variables),
        fresh_handler(Path(run.code_dir), run.handler, [Path(p) for p in run.layer_paths]) as handler,
    ):
        context = LambdaContext(
            function_name=run.function_name,
            function_version="$LATEST",
            invoked_function_arn=run.function_arn,
            memory_limit_in_mb=str(run.memory_size),
            aws_request_id=new_request_id(),
            log_group_name=run.log_group,
            log_stream_name=run.variables.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            deadline_monotonic=time.monotonic() + run.timeout,
        )
        with _measured(isolated) as facts:
            result = handler(json.loads(json.dumps(run.event)), context)
    summary = marshal_response(result)
    return _measurement(facts, result=summary if isinstance(summary, dict) else {"result": summary})


def run_naive(run: NaiveRun, *, isolated: bool) -> RunMeasurement:
    now = datetime.fromisoformat(run.now)
    phases = {"tags_s": 0.0, "usage_s": 0.0}
    with _measured(isolated) as facts:
        for region in run.regions:
            # Default clients and page sizes, as a script written from the boto3 docs has them.
            bedrock = boto3.client("bedrock", region_name=region, endpoint_url=run.endpoint_url)
            cloudwatch = boto3.client("cloudwatch", region_name=region, endpoint_url=run.endpoint_url)
            started = time.perf_counter()
            profiles = [
                summary
                for page in bedrock.get_paginator("list_inference_profiles").paginate(typeEquals="APPLICATION")
                for summary in page["inferenceProfileSummaries"]
            ]
            tags = {
                p["inferenceProfileArn"]: bedrock.list_tags_for_resource(resourceARN=p["inferenceProfileArn"])["tags"]
                for p in profiles
            }
            phases["tags_s"] += time.perf_counter() - started
            started = time.perf_counter()
            for profile in profiles:
                cloudwatch.get_metric_statistics(
                    Namespace="AWS/Bedrock",
                    MetricName="Invocations",
                    Dimensions=[{"Name": "ModelId", "Value": profile["inferenceProfileId"]}],
                    StartTime=now - timedelta(days=NAIVE_USAGE_DAYS),
                    EndTime=now,
                    Period=86_400,
                    Statistics=["Sum"],
                )
            phases["usage_s"] += time.perf_counter() - started
            del tags
    return _measurement(facts, phases=phases)


def _child_main(kind: str, spec_path: str, result_path: str) -> int:
    """Entry point of the measuring subprocess: one run, its measurement written as JSON."""
    spec = json.loads(Path(spec_path).read_text())
    if kind == "handler":
        run = HandlerRun(**{**spec, "layer_paths": tuple(spec["layer_paths"])})
        # Lambda puts the layer (/opt/python) before the runtime's packages.
        sys.path[:0] = list(run.layer_paths)
        measurement = run_handler(run, isolated=True)
    else:
        measurement = run_naive(NaiveRun(**{**spec, "regions": tuple(spec["regions"])}), isolated=True)
    Path(result_path).write_text(json.dumps(asdict(measurement)))
    return 0


def _from_json(data: Mapping[str, Any]) -> RunMeasurement:
    return RunMeasurement(
        calls=tuple(CallCount(**c) for c in data["calls"]),
        wall_s=data["wall_s"],
        cpu_s=data["cpu_s"],
        rss_before_mb=data["rss_before_mb"],
        peak_rss_mb=data["peak_rss_mb"],
        isolated=data["isolated"],
        result=data.get("result", {}),
        phases=data.get("phases", {}),
    )


def _child_environment(endpoint_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= FAKE_CREDENTIALS | {
        "AWS_DEFAULT_REGION": HOME_REGION,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    return env


def run_isolated(kind: str, spec: HandlerRun | NaiveRun, endpoint_url: str) -> RunMeasurement:
    """Run one measurement in a fresh Python process and read its result back."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        spec_path, result_path = Path(scratch, "spec.json"), Path(scratch, "result.json")
        spec_path.write_text(json.dumps(asdict(spec)))
        completed = subprocess.run(
            [sys.executable, "-m", "programs.bench", "--child", kind, str(spec_path), str(result_path)],
            cwd=ROOT,
            env=_child_environment(endpoint_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not result_path.exists():
            raise RuntimeError(f"the measuring process failed ({completed.returncode}):\n{completed.stderr[-4000:]}")
        return _from_json(json.loads(result_path.read_text()))


# --- estates ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionCalls:
    profiles: int
    list_calls: int
    tag_reads: int
    metric_calls: int
    writes: int
    confirm_reads: int
    list_bound: int
    tag_read_bound: int
    metric_bound: int

    @property
    def within_bounds(self) -> bool:
        return (
            self.list_calls <= self.list_bound
            and self.tag_reads <= self.tag_read_bound
            and self.metric_calls <= self.metric_bound
        )


@dataclass(frozen=True)
class FunctionResult:
    logical_id: str
    measurement: RunMeasurement
    per_region: dict[str, RegionCalls]
    timeout_s: int
    memory_mb: int
    estimated_aws_s: float

    @property
    def name(self) -> str:
        return SHORT_NAMES[self.logical_id]

    @property
    def within_bounds(self) -> bool:
        return all(region.within_bounds for region in self.per_region.values())

    def max_in_a_region(self, attribute: str) -> int:
        return max((getattr(region, attribute) for region in self.per_region.values()), default=0)


@dataclass(frozen=True)
class EstateResult:
    profiles_per_region: int
    regions: tuple[str, ...]
    seed_s: float
    functions: dict[str, FunctionResult]
    naive: RunMeasurement | None

    @property
    def label(self) -> str:
        return f"{self.profiles_per_region:,} x {len(self.regions)}"


def bounds(profiles: int) -> tuple[int, int, int]:
    """Per-region targets of issue 7 for ``profiles`` profiles: list, tag-read and metric calls."""
    return (
        math.ceil(profiles / 1000) + SMALL_CONSTANT,
        math.ceil(profiles / 100) + SMALL_CONSTANT,
        math.ceil(profiles / 500) + SMALL_CONSTANT,
    )


def region_calls(measurement: RunMeasurement, region: str, profiles: int) -> RegionCalls:
    list_bound, tag_bound, metric_bound = bounds(profiles)
    writes = sum(
        c.calls
        for c in measurement.calls
        if c.region == region and c.service in SWEEP_SERVICES and _is_write(c.operation)
    )
    return RegionCalls(
        profiles=profiles,
        list_calls=measurement.count(LIST_OPERATIONS, region),
        tag_reads=measurement.count(TAG_READ_OPERATIONS, region),
        metric_calls=measurement.count(METRIC_OPERATIONS, region),
        writes=writes,
        confirm_reads=measurement.count(CONFIRM_OPERATIONS, region),
        list_bound=list_bound,
        tag_read_bound=tag_bound,
        metric_bound=metric_bound,
    )


def estimated_aws_seconds(measurement: RunMeasurement, memory_mb: int) -> float:
    """CPU scaled to the function's share of a vCPU, plus an assumed latency per call: regions are
    swept concurrently (the busiest counts), the other calls one after another."""
    per_region: dict[str, int] = {}
    others = 0
    for c in measurement.calls:
        if c.service in SWEEP_SERVICES:
            per_region[c.region] = per_region.get(c.region, 0) + c.calls
        else:
            others += c.calls
    sequential_calls = max(per_region.values(), default=0) + others
    return measurement.cpu_s * FULL_VCPU_MB / memory_mb + sequential_calls * ASSUMED_CALL_LATENCY_S


class Bench:
    """The embedded AWS (in-process state, served over HTTP) and the runs against it."""

    def __init__(self, endpoint_url: str, *, isolate: bool, build_dir: Path | None, now: datetime) -> None:
        self.endpoint_url = endpoint_url
        self.isolate = isolate
        self.build_dir = build_dir
        self.now = now

    def _reset(self) -> None:
        from moto.moto_api._internal.models import moto_api_backend  # noqa: PLC0415

        moto_api_backend.reset()

    def _deploy(self, regions: Sequence[str]) -> Any:
        from embedded_aws.seed import ALLOWED_TAG_VALUES  # noqa: PLC0415
        from stack_harness import deploy_stack  # noqa: PLC0415

        boto3.client("s3", region_name=HOME_REGION).create_bucket(Bucket=REPORT_BUCKET)
        parameters = {
            "GovernedRegions": ",".join(regions),
            "AllowedTagValues": json.dumps(ALLOWED_TAG_VALUES),
            "ScheduleTimezone": "UTC",
            "ReportBucket": REPORT_BUCKET,
            "DefaultMonthlyBudgetUSD": "1500",
            "ActivateCostAllocationTags": "true",
        }
        return deploy_stack(
            TEMPLATE, stack_name=STACK_NAME, parameters=parameters, region=HOME_REGION, build_dir=self.build_dir
        )

    def _handler_run(self, stack: Any, logical_id: str) -> HandlerRun:
        config = stack.function_config(logical_id)
        event = json.loads(
            json.dumps(stack.scheduled_event(logical_id)).replace(
                "<aws.scheduler.scheduled-time>", self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        )
        variables = stack.invocation_environment(logical_id, self.now)
        # The credentials and endpoint stand in for the role, as in the stack harness.
        variables |= FAKE_CREDENTIALS | {"AWS_ENDPOINT_URL": self.endpoint_url}
        layer = _layer_path(self.build_dir)
        return HandlerRun(
            logical_id=logical_id,
            code_dir=str(config.code_dir),
            handler=config.handler,
            layer_paths=(str(layer),),
            variables=variables,
            event=event,
            function_name=config.function_name,
            function_arn=config.function_arn,
            memory_size=config.memory_size,
            timeout=config.timeout,
            log_group=config.log_group,
        )

    def _run(self, kind: str, spec: HandlerRun | NaiveRun) -> RunMeasurement:
        if self.isolate:
            return run_isolated(kind, spec, self.endpoint_url)
        if isinstance(spec, HandlerRun):
            return run_handler(spec, isolated=False)
        return run_naive(spec, isolated=False)

    def estate(
        self,
        profiles_per_region: int,
        regions: tuple[str, ...],
        *,
        functions: Sequence[str] = RUN_ORDER,
        naive: bool = True,
    ) -> EstateResult:
        from embedded_aws.seed import EstateSpec, seed_estate  # noqa: PLC0415

        label = f"{profiles_per_region:,} profiles x {len(regions)} region(s)"
        self._reset()
        stack = self._deploy(regions)
        started = time.perf_counter()
        spec = EstateSpec(profiles=profiles_per_region * len(regions), regions=regions, now=self.now, usage=False)
        estate = seed_estate(spec)
        write_usage(estate, self.now, USAGE_DAYS)
        seed_s = time.perf_counter() - started
        say(f"  {label}: seeded in {seed_s:.1f} s")
        results: dict[str, FunctionResult] = {}
        for logical_id in [f for f in RUN_ORDER if f in functions]:
            run = self._handler_run(stack, logical_id)
            measurement = self._run("handler", run)
            results[logical_id] = FunctionResult(
                logical_id=logical_id,
                measurement=measurement,
                per_region={r: region_calls(measurement, r, profiles_per_region) for r in regions},
                timeout_s=run.timeout,
                memory_mb=run.memory_size,
                estimated_aws_s=estimated_aws_seconds(measurement, run.memory_size),
            )
            say(
                f"  {label}: {SHORT_NAMES[logical_id]}: {sum(c.calls for c in measurement.calls)} calls, "
                f"{measurement.wall_s:.1f} s, {measurement.peak_rss_mb:.0f} MB"
            )
        naive_measurement = None
        if naive:
            naive_measurement = self._run("naive", NaiveRun(self.endpoint_url, regions, self.now.isoformat()))
            say(f"  {label}: naive sweep: {naive_measurement.count()} calls, {naive_measurement.wall_s:.1f} s")
        return EstateResult(profiles_per_region, regions, seed_s, results, naive_measurement)

    def cost_report_requests(self, projects: int) -> dict[str, Any]:
        """Cost Explorer requests of one weekly report when ``projects`` projects have costs."""
        from embedded_aws.seed import EstateSpec, seed_estate  # noqa: PLC0415

        self._reset()
        stack = self._deploy(ONE_REGION)
        names = tuple(f"Project{index:03d}" for index in range(projects))
        # Two profiles a project; no CloudWatch usage is needed for the report.
        seed_estate(EstateSpec(profiles=2 * projects, regions=ONE_REGION, projects=names, now=self.now, usage=False))
        measurement = self._run("handler", self._handler_run(stack, "CostReportFunction"))
        ce = {op.split(":", 1)[1]: n for op, n in measurement.by_operation().items() if op.startswith("ce:")}
        pages = max(0, ce.get("GetCostAndUsage", 0) - 1) + max(0, ce.get("GetDimensionValues", 0) - 1)
        requests = sum(ce.values())
        say(f"  cost report, {projects} projects: {requests} Cost Explorer requests")
        return {
            "projects": projects,
            "projects_in_report": measurement.result.get("projects"),
            "requests": requests,
            "pages_beyond_first": pages,
            "requests_before_pagination": requests - pages,
            "by_operation": ce,
            "status": measurement.result.get("status"),
            "within_target": requests - pages <= CE_REQUEST_TARGET,
        }


def write_usage(estate: Estate, now: datetime, days: int) -> int:
    """Write the estate's CloudWatch usage straight into the embedded CloudWatch, over ``days`` days.

    The same datapoints as :func:`embedded_aws.seed.put_usage` (daily ``Invocations`` under
    ``ModelId`` = profile id at noon, none for a day without traffic), without a request per 500 of
    them: a 5,000 x 3 estate holds about two million. The seed's history is eight weeks (as much as
    the cost ledger holds) and the idle sweep reads 180 days: an estate that has run for half a year
    fills that whole window, and GetMetricData's answers, and the sweep's memory, grow with it. So
    the days before the seeded history are filled too: busy profiles every day, idle ones (used
    before they went quiet) every day, quiet ones now and then. Returns the datapoints written.
    """
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends  # noqa: PLC0415

    from embedded_aws.seed import Usage  # noqa: PLC0415

    extra = max(0, days - estate.spec.history_days)
    rng = random.Random(estate.spec.random_seed + 1)
    today = datetime.combine(now.date(), datetime.min.time())  # moto keeps naive UTC timestamps
    written = 0
    for profile in estate.profiles:
        match profile.usage:
            case Usage.BUSY:
                older = [rng.randint(300, 2_500) for _ in range(extra)]
            case Usage.IDLE:
                older = [rng.randint(20, 200) for _ in range(extra)]
            case Usage.QUIET:
                older = [rng.randint(1, 6) if rng.random() < 0.3 else 0 for _ in range(extra)]
            case Usage.EXEMPT | Usage.YOUNG:
                older = [0] * extra
        counts = [*older, *profile.daily_invocations]
        store = cloudwatch_backends[estate.spec.account_id][profile.region].metric_data
        dimensions = [{"Name": "ModelId", "Value": profile.profile_id}]
        for index, count in enumerate(counts):
            if count > 0:
                when = today - timedelta(days=len(counts) - index) + timedelta(hours=12)
                store.append(MetricDatum("AWS/Bedrock", "Invocations", float(count), dimensions, when, "Count"))
                written += 1
    return written


def _layer_path(build_dir: Path | None) -> Path:
    """Where the function imports the layer from: the build's python/ (Lambda's /opt/python), or
    the source package directory when running from the sources."""
    if build_dir is not None:
        return build_dir / "GovernanceLayer" / "python"
    return ROOT / "layers" / "governance"


# --- cold start and package size -----------------------------------------------------------------

_IMPORT_PROBE: Final = """
import sys, time
sys.path[:0] = {paths!r}
started = time.perf_counter()
import {module}
print(time.perf_counter() - started)
"""


def _import_seconds(module: str, paths: Sequence[str]) -> float:
    # -I: no user site, no PYTHON* variables; bytecode is never written, as in Lambda's read-only
    # /opt and /var/task, so every run pays what a cold start pays.
    completed = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _IMPORT_PROBE.format(paths=list(paths), module=module)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **FAKE_CREDENTIALS},
        cwd=tempfile.gettempdir(),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} from {list(paths)} failed:\n{completed.stderr[-2000:]}")
    return float(completed.stdout.strip().splitlines()[-1])


def import_times(build_dir: Path, repeats: int) -> dict[str, Any]:
    """Median import time of each handler module and of a bare ``import boto3``, interleaved so
    that drift on the machine affects all alike."""
    layer = str(_layer_path(build_dir))
    probes: dict[str, tuple[str, list[str]]] = {
        # The runtime ships boto3 precompiled: the baseline of the target.
        "boto3 (runtime copy, precompiled)": ("boto3", []),
        "boto3 (layer copy)": ("boto3", [layer]),
    }
    for logical_id in SHOWN_ORDER:
        probes[SHORT_NAMES[logical_id]] = ("app", [str(build_dir / logical_id), layer])
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(repeats + 1):
        for name, (module, paths) in probes.items():
            samples[name].append(_import_seconds(module, paths))
    # The first round only warms the file cache.
    medians = {name: statistics.median(values[1:]) for name, values in samples.items()}
    baseline = medians["boto3 (runtime copy, precompiled)"]
    handlers = {
        SHORT_NAMES[lid]: {
            "seconds": medians[SHORT_NAMES[lid]],
            "ratio_to_boto3": medians[SHORT_NAMES[lid]] / baseline,
            "within_target": medians[SHORT_NAMES[lid]] / baseline <= IMPORT_RATIO_TARGET,
        }
        for lid in SHOWN_ORDER
    }
    return {
        "repeats": repeats,
        "boto3_s": baseline,
        "boto3_from_layer_s": medians["boto3 (layer copy)"],
        "handlers": handlers,
    }


def layer_size(build_dir: Path) -> dict[str, Any]:
    """The built layer zipped in memory as ``sam deploy`` uploads it (deflate)."""
    layer = build_dir / "GovernanceLayer"
    buffer = io.BytesIO()
    files = 0
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(layer.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(layer).as_posix())
                files += 1
                unzipped += path.stat().st_size
    compiled = sum(1 for _ in layer.rglob("*.pyc"))
    return {
        "zipped_mb": len(buffer.getvalue()) / 2**20,
        "unzipped_mb": unzipped / 2**20,
        "files": files,
        "compiled_files": compiled,
    }


# --- the whole benchmark -------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchSettings:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    region_sets: tuple[tuple[str, ...], ...] = (ONE_REGION, THREE_REGIONS)
    ce_projects: tuple[int, ...] = CE_PROJECT_COUNTS
    isolate: bool = True
    """Each run in a fresh subprocess (honest peak RSS); False runs in this process (tests)."""
    build_dir: Path | None = ROOT / ".aws-sam" / "build"
    """Deploy and import what ``sam build`` produced; None deploys the sources (tests)."""
    import_repeats: int = 5
    """0 skips the import-time and layer-size measurements (they need a build)."""
    functions: tuple[str, ...] = RUN_ORDER
    naive: bool = True
    organization: OrganizationBenchSettings | None = None
    """The organization row (accounts x regions x profiles); None leaves it out."""


def machine() -> dict[str, Any]:
    import moto  # noqa: PLC0415

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "moto": moto.__version__,
    }


def run_benchmark(settings: BenchSettings, *, progress: Callable[[str], None] = say) -> dict[str, Any]:
    """Run everything ``settings`` asks for; returns the JSON document (see :func:`render`)."""
    started = time.perf_counter()
    document: dict[str, Any] = {"machine": machine(), "settings": _settings_json(settings)}
    with contextlib.ExitStack() as snapshot:
        if settings.build_dir is not None:
            # A copy, so that a `sam build` running meanwhile cannot pull the code from under the runs.
            build = Path(snapshot.enter_context(tempfile.TemporaryDirectory(prefix="bench-build-")), "build")
            _copy_build(settings.build_dir, build)
            settings = dataclasses.replace(settings, build_dir=build)
        _run_all(settings, document, progress)
    document["targets"] = targets(document)
    document["elapsed_s"] = time.perf_counter() - started
    return document


def _copy_build(build_dir: Path, copy: Path, attempts: int = 5) -> None:
    """Copy a complete build; a `sam build` caught half-way is waited for, a few times."""
    for _ in range(attempts):
        missing = [name for name in ("template.yaml", "GovernanceLayer", *RUN_ORDER) if not (build_dir / name).exists()]
        if not missing:
            try:
                shutil.copytree(build_dir, copy, symlinks=True)
            except (shutil.Error, OSError):
                shutil.rmtree(copy, ignore_errors=True)
            else:
                return
        time.sleep(10)
    raise RuntimeError(f"Found no complete build to copy in {build_dir}: run `make build`")


def _run_all(settings: BenchSettings, document: dict[str, Any], progress: Callable[[str], None]) -> None:
    from embedded_aws import bedrock as embedded_bedrock  # noqa: PLC0415
    from embedded_aws import embedded_aws  # noqa: PLC0415
    from embedded_aws.indexed_cloudwatch import indexed_cloudwatch  # noqa: PLC0415
    from embedded_aws.server import start_server  # noqa: PLC0415

    if settings.import_repeats and settings.build_dir is not None:
        progress("Import time of each handler (fresh interpreter each) and the layer's size")
        document["imports"] = import_times(settings.build_dir, settings.import_repeats)
        document["layer"] = layer_size(settings.build_dir)
    largest = max(settings.sizes, default=0)
    # 5,000 profiles a region is above the default quota of about 1,000: as after a quota increase.
    quota = embedded_bedrock.PROFILE_QUOTA
    embedded_bedrock.PROFILE_QUOTA = max(quota, largest, 2 * max(settings.ce_projects, default=0))
    document["settings"]["profile_quota"] = embedded_bedrock.PROFILE_QUOTA
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    estates: list[EstateResult] = []
    with contextlib.ExitStack() as stack:
        _quiet_logs()
        # Seeding and deploying go straight to the shared backends; the functions use HTTP.
        stack.enter_context(_fake_credentials())
        stack.enter_context(embedded_aws())
        stack.enter_context(indexed_cloudwatch())
        server = stack.enter_context(start_server())
        stack.callback(setattr, embedded_bedrock, "PROFILE_QUOTA", quota)
        bench = Bench(server.endpoint_url, isolate=settings.isolate, build_dir=settings.build_dir, now=now)
        for regions in settings.region_sets:
            for size in settings.sizes:
                progress(f"Estate of {size:,} profiles in {len(regions)} region(s)")
                estates.append(bench.estate(size, regions, functions=settings.functions, naive=settings.naive))
        document["cost_explorer"] = [bench.cost_report_requests(projects) for projects in settings.ce_projects]
    document["estates"] = [_estate_json(estate) for estate in estates]
    if settings.organization is not None:
        # A fresh embedded AWS of its own: an organization of member accounts, each with its estate.
        with _fake_credentials():
            document["organization"] = run_organization_bench(settings.organization, now, progress)


@contextlib.contextmanager
def _fake_credentials() -> Iterator[None]:
    """The deploy and seed clients of this process need some credentials; never real ones."""
    saved = {name: os.environ.get(name) for name in (*FAKE_CREDENTIALS, "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    os.environ.update(FAKE_CREDENTIALS | {"AWS_DEFAULT_REGION": HOME_REGION})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _quiet_logs() -> None:
    # The server logs every request and the harness every resource moto cannot create.
    for name in ("werkzeug", "stack_harness", "samtranslator"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _settings_json(settings: BenchSettings) -> dict[str, Any]:
    return {
        "sizes": list(settings.sizes),
        "region_sets": [list(regions) for regions in settings.region_sets],
        "isolated_runs": settings.isolate,
        "build_dir": str(settings.build_dir) if settings.build_dir else None,
        "small_constant": SMALL_CONSTANT,
        "assumed_call_latency_s": ASSUMED_CALL_LATENCY_S,
        "full_vcpu_mb": FULL_VCPU_MB,
        "naive_usage_days": NAIVE_USAGE_DAYS,
    }


def _naive_json(estate: EstateResult) -> dict[str, Any] | None:
    naive = estate.naive
    if naive is None:
        return None
    list_calls = naive.count(LIST_OPERATIONS)
    tag_calls = naive.count(NAIVE_TAG_OPERATIONS)
    metric_calls = naive.count(METRIC_OPERATIONS)
    comparisons: dict[str, Any] = {}
    # Tag compliance needs the tags; the idle sweep needs the tags and the usage.
    for logical_id, calls, seconds in (
        ("TagComplianceFunction", list_calls + tag_calls, naive.phases.get("tags_s", 0.0)),
        ("IdleProfileFunction", list_calls + tag_calls + metric_calls, naive.wall_s),
    ):
        ours = estate.functions.get(logical_id)
        if ours is None:
            continue
        our_reads = ours.measurement.count(LIST_OPERATIONS | NAIVE_TAG_OPERATIONS | METRIC_OPERATIONS)
        comparisons[SHORT_NAMES[logical_id]] = {
            "naive_calls": calls,
            "our_read_calls": our_reads,
            "calls_ratio": calls / our_reads if our_reads else None,
            "naive_s": seconds,
            "our_s": ours.measurement.wall_s,
            "time_ratio": seconds / ours.measurement.wall_s if ours.measurement.wall_s else None,
        }
    return {
        "calls_by_operation": naive.by_operation(),
        "wall_s": naive.wall_s,
        "phases": dict(naive.phases),
        "peak_rss_mb": naive.peak_rss_mb,
        "compared": comparisons,
    }


def _estate_json(estate: EstateResult) -> dict[str, Any]:
    functions = []
    for logical_id in SHOWN_ORDER:
        result = estate.functions.get(logical_id)
        if result is None:
            continue
        m = result.measurement
        functions.append(
            {
                "function": result.name,
                "logical_id": logical_id,
                "calls_total": m.count(),
                "http_attempts": sum(c.attempts for c in m.calls),
                "calls_by_operation": m.by_operation(),
                "calls_by_region": {region: asdict(calls) for region, calls in result.per_region.items()},
                "writes": m.writes(),
                "within_bounds": result.within_bounds,
                "wall_s": m.wall_s,
                "cpu_s": m.cpu_s,
                "rss_before_mb": m.rss_before_mb,
                "peak_rss_mb": m.peak_rss_mb,
                "isolated": m.isolated,
                "timeout_s": result.timeout_s,
                "memory_mb": result.memory_mb,
                "estimated_aws_s": result.estimated_aws_s,
                "time_margin": result.timeout_s / result.estimated_aws_s if result.estimated_aws_s else None,
                "memory_margin": result.memory_mb / m.peak_rss_mb if m.peak_rss_mb else None,
                "summary": _brief_summary(m.result),
            }
        )
    return {
        "label": estate.label,
        "profiles_per_region": estate.profiles_per_region,
        "regions": list(estate.regions),
        "profiles": estate.profiles_per_region * len(estate.regions),
        "seed_s": estate.seed_s,
        "functions": functions,
        "naive": _naive_json(estate),
    }


def _brief_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of a handler's summary (its lists of ARNs would swamp the JSON)."""
    return {
        key: value
        for key, value in summary.items()
        if isinstance(value, (int, float, str, bool, type(None))) or key in {"counts", "profilesByRegion"}
    }


def targets(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7 with whether this run met it and the figures that say so."""
    checks: list[dict[str, Any]] = []
    estates = document.get("estates", [])
    missed = [f"{e['label']} {f['function']}" for e in estates for f in e["functions"] if not f["within_bounds"]]
    checks.append(
        {
            "target": "per region: list <= ceil(N/1000), tag reads <= ceil(N/100), metric <= ceil(N/500), "
            f"each + {SMALL_CONSTANT}",
            "met": not missed,
            "detail": "missed by " + ", ".join(missed) if missed else "every function, every estate",
        }
    )
    largest = max(estates, key=lambda e: e["profiles"], default=None)
    if largest is not None:
        worst_time = min(f["time_margin"] or math.inf for f in largest["functions"])
        worst_memory = min(f["memory_margin"] or math.inf for f in largest["functions"])
        checks.append(
            {
                "target": f"{largest['label']}: well inside Lambda's Timeout and MemorySize",
                "met": worst_time >= 2 and worst_memory >= 2,
                "detail": f"smallest margins: {worst_time:.1f}x the estimated time, {worst_memory:.1f}x the peak RSS",
            }
        )
    imports = document.get("imports")
    if imports:
        worst = max(h["ratio_to_boto3"] for h in imports["handlers"].values())
        checks.append(
            {
                "target": f"handler import <= {IMPORT_RATIO_TARGET}x a bare import boto3",
                "met": worst <= IMPORT_RATIO_TARGET,
                "detail": f"worst {worst:.2f}x",
            }
        )
    ce = document.get("cost_explorer", [])
    if ce:
        checks.append(
            {
                "target": f"weekly report <= {CE_REQUEST_TARGET} Cost Explorer requests plus pagination",
                "met": all(c["within_target"] for c in ce),
                "detail": "; ".join(
                    f"{c['projects']} projects: {c['requests_before_pagination']} + {c['pages_beyond_first']} pages"
                    for c in ce
                ),
            }
        )
    organization = document.get("organization")
    if organization:
        checks.append(
            {
                "target": "organization: calls per (account, region) = the account-scope formula + 1 AssumeRole",
                "met": organization["calls_match_formula"],
                "detail": f"{organization['targets']} targets, {organization['calls_per_target']['min']}-"
                f"{organization['calls_per_target']['max']} calls each",
            }
        )
    return checks


# --- the table ------------------------------------------------------------------------------------

_COLUMNS: Final = (
    ("Estate", "<"),
    ("Function", "<"),
    ("Calls", ">"),
    ("List/rgn", ">"),
    ("Tags/rgn", ">"),
    ("Untagged/rgn", ">"),
    ("Metric/rgn", ">"),
    ("Bounds", "<"),
    ("Writes", ">"),
    ("Wall s", ">"),
    ("CPU s", ">"),
    ("Peak MB", ">"),
    ("AWS est s", ">"),
    ("Timeout", ">"),
    ("Naive calls", ">"),
    ("x fewer", ">"),
    ("Naive s", ">"),
    ("x faster", ">"),
)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def render(document: Mapping[str, Any]) -> str:
    """The one table (and its notes) for the terminal and the README."""
    m = document["machine"]
    out = [
        f"Bedrock governance benchmark, {m['date']}: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}, "
        f"moto {m['moto']}",
        "",
    ]
    rows: list[list[str]] = []
    for estate in document.get("estates", []):
        naive = estate.get("naive") or {}
        for function in estate["functions"]:
            regions = list(function["calls_by_region"].values())

            def worst(attribute: str, bound: str, regions: list[dict[str, Any]] = regions) -> str:
                return f"{max(r[attribute] for r in regions)}/{max(r[bound] for r in regions)}"

            compared = naive.get("compared", {}).get(function["function"], {})
            rows.append(
                [
                    estate["label"],
                    function["function"],
                    f"{function['calls_total']:,}",
                    worst("list_calls", "list_bound"),
                    worst("tag_reads", "tag_read_bound"),
                    f"{max(r['confirm_reads'] for r in regions)}",
                    worst("metric_calls", "metric_bound"),
                    "ok" if function["within_bounds"] else "MISSED",
                    f"{function['writes']:,}",
                    f"{function['wall_s']:.1f}",
                    f"{function['cpu_s']:.1f}",
                    f"{function['peak_rss_mb']:.0f}/{function['memory_mb']}",
                    f"{function['estimated_aws_s']:.0f}",
                    f"{function['timeout_s']}",
                    f"{compared['naive_calls']:,}" if compared else "-",
                    _ratio(compared.get("calls_ratio")) if compared else "-",
                    f"{compared['naive_s']:.1f}" if compared else "-",
                    _ratio(compared.get("time_ratio")) if compared else "-",
                ]
            )
    right_aligned = frozenset(index for index, (_, align) in enumerate(_COLUMNS) if align == ">")
    out += table([name for name, _ in _COLUMNS], rows, right_align=right_aligned).splitlines()
    out += [
        "",
        "Calls: every API call of one scheduled run (first run on a fresh estate), counted from botocore events; "
        "List/Tags/Metric/rgn: most",
        f"in one region / per-region bound (ceil(N/1000), ceil(N/100), ceil(N/500) + {SMALL_CONSTANT}). "
        "Peak MB: peak RSS of the run's own fresh process / MemorySize.",
        f"AWS est s: CPU x {FULL_VCPU_MB}/MemorySize + {ASSUMED_CALL_LATENCY_S} s per call (busiest region + "
        "the rest); Timeout from template.yaml.",
        "Untagged/rgn: ListTagsForResource for profiles the Tagging API does not list (never tagged); "
        "0 on a tagged estate.",
        "Naive: a script listing profiles, then list_tags_for_resource (and, beside idle, get_metric_statistics) per "
        "profile; x fewer/faster vs our read calls/time.",
    ]
    imports = document.get("imports")
    if imports:
        out += ["", f"Cold start (import time, median of {imports['repeats']} fresh interpreters, no bytecode writes):"]
        out.append(
            f"  bare import boto3: {imports['boto3_s'] * 1000:.0f} ms (runtime's precompiled copy); "
            f"{imports['boto3_from_layer_s'] * 1000:.0f} ms from the layer"
        )
        for name, figures in imports["handlers"].items():
            out.append(
                f"  {name:<15} {figures['seconds'] * 1000:5.0f} ms  {figures['ratio_to_boto3']:.2f}x boto3  "
                f"{'ok' if figures['within_target'] else 'MISSED'} (target <= {IMPORT_RATIO_TARGET}x)"
            )
    layer = document.get("layer")
    if layer:
        out.append(
            f"Layer: {layer['zipped_mb']:.1f} MB zipped, {layer['unzipped_mb']:.1f} MB unzipped, {layer['files']:,} "
            f"files ({layer['compiled_files']:,} .pyc)"
        )
    for ce in document.get("cost_explorer", []):
        operations = ", ".join(f"{op} {n}" for op, n in ce["by_operation"].items())
        out.append(
            f"Weekly report, {ce['projects']} projects: {ce['requests']} Cost Explorer requests "
            f"({ce['requests_before_pagination']} + {ce['pages_beyond_first']} pages: {operations})"
        )
    if document.get("organization"):
        out += render_rows(document["organization"])
    out += ["", "Targets:"]
    out += [f"  [{'ok' if t['met'] else 'MISSED'}] {t['target']}: {t['detail']}" for t in document.get("targets", [])]
    if "elapsed_s" in document:
        out.append(f"\nBenchmark took {document['elapsed_s']:.0f} s.")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m programs.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="profiles per region")
    parser.add_argument("--regions", default="1,3", help="region counts to run (1 and/or 3)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--import-repeats", type=int, default=5, help="fresh interpreters per import measurement")
    parser.add_argument(
        "--organization-accounts", type=int, default=100, help="member accounts of the organization row (0: none)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child_main(*args.child)
    build_dir = ROOT / ".aws-sam" / "build"
    if not (build_dir / "GovernanceLayer").is_dir():
        print(f"No build in {build_dir}: run `make build` (or `make bench`, which builds first).", file=sys.stderr)
        return 2
    region_sets = {1: ONE_REGION, 3: THREE_REGIONS}
    settings = BenchSettings(
        sizes=tuple(int(size) for size in args.sizes.split(",")),
        region_sets=tuple(region_sets[int(count)] for count in args.regions.split(",")),
        build_dir=build_dir,
        import_repeats=args.import_repeats,
        organization=OrganizationBenchSettings(accounts=args.organization_accounts)
        if args.organization_accounts > 0
        else None,
    )
    document = run_benchmark(settings)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(render(document))
    print(f"\nJSON: {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

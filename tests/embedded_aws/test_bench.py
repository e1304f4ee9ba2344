"""The benchmark's machinery on a tiny estate: what it counts, the bounds it checks, its table and JSON.

No timing is asserted: only the calls botocore saw, and the shape of what ``make bench`` publishes.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.cloudwatch.models import cloudwatch_backends

from embedded_aws import embedded_aws
from embedded_aws.seed import ACCOUNT_ID, Estate, EstateSpec, Usage, seed_estate
from programs import bench
from programs.bench import ONE_REGION, THREE_REGIONS, BenchSettings, render, run_benchmark, write_usage

pytestmark = pytest.mark.deployment

PROFILES = 20


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    # In this process (no subprocess per run) and from the sources (no build needed): the machinery,
    # not the figures, is under test.
    settings = BenchSettings(
        sizes=(PROFILES,),
        region_sets=(ONE_REGION, THREE_REGIONS),
        ce_projects=(3,),
        isolate=False,
        build_dir=None,
        import_repeats=0,
    )
    return run_benchmark(settings, progress=lambda _message: None)


def test_every_function_runs_on_every_estate(document: dict[str, Any]) -> None:
    assert [(e["label"], e["profiles"]) for e in document["estates"]] == [("20 x 1", 20), ("20 x 3", 60)]
    for estate in document["estates"]:
        names = [f["function"] for f in estate["functions"]]
        assert names == ["tag compliance", "idle profiles", "cost report", "budgets"]
        for function in estate["functions"]:
            assert function["calls_total"] == sum(function["calls_by_operation"].values()) > 0
            assert function["timeout_s"] > 0
            assert function["memory_mb"] > 0


def test_each_region_is_swept_with_one_call_of_each_kind(document: dict[str, Any]) -> None:
    for estate in document["estates"]:
        functions = {f["function"]: f for f in estate["functions"]}
        assert set(functions["tag compliance"]["calls_by_region"]) == set(estate["regions"])
        for name in ("tag compliance", "idle profiles", "budgets"):
            for region, calls in functions[name]["calls_by_region"].items():
                assert calls["profiles"] == PROFILES
                assert (calls["list_calls"], calls["tag_reads"]) == (1, 1), (name, region)
        for calls in functions["idle profiles"]["calls_by_region"].values():
            assert calls["metric_calls"] == 1
        # The never-tagged profiles of the estate are read one by one, the same for every sweep.
        for region in estate["regions"]:
            confirms = {
                functions[name]["calls_by_region"][region]["confirm_reads"]
                for name in ("tag compliance", "idle profiles", "budgets")
            }
            assert len(confirms) == 1
            assert 0 < confirms.pop() < PROFILES
        for calls in functions["cost report"]["calls_by_region"].values():
            assert (calls["list_calls"], calls["tag_reads"], calls["metric_calls"]) == (0, 0, 0)


def test_counted_calls_meet_the_per_region_bounds(document: dict[str, Any]) -> None:
    limit = bench.SMALL_CONSTANT
    for estate in document["estates"]:
        for function in estate["functions"]:
            for calls in function["calls_by_region"].values():
                n = calls["profiles"]
                assert calls["list_calls"] <= math.ceil(n / 1000) + limit
                assert calls["tag_reads"] <= math.ceil(n / 100) + limit
                assert calls["metric_calls"] <= math.ceil(n / 500) + limit
            assert function["within_bounds"]
    bounds_target = document["targets"][0]
    assert bounds_target["met"], bounds_target


def test_the_naive_sweep_makes_one_tag_and_one_metric_call_per_profile(document: dict[str, Any]) -> None:
    for estate in document["estates"]:
        naive = estate["naive"]
        calls = naive["calls_by_operation"]
        assert calls["bedrock:ListTagsForResource"] == estate["profiles"]
        assert calls["cloudwatch:GetMetricStatistics"] == estate["profiles"]
        for name in ("tag compliance", "idle profiles"):
            compared = naive["compared"][name]
            assert compared["naive_calls"] > compared["our_read_calls"] > 0
            assert compared["calls_ratio"] == compared["naive_calls"] / compared["our_read_calls"]


def test_a_weekly_report_makes_at_most_three_cost_explorer_requests_before_pages(document: dict[str, Any]) -> None:
    (report,) = document["cost_explorer"]
    assert report["projects"] == 3
    assert report["requests"] == sum(report["by_operation"].values())
    assert report["requests_before_pagination"] <= bench.CE_REQUEST_TARGET
    assert report["within_target"]


def test_the_document_is_json_and_the_table_has_a_row_per_function(document: dict[str, Any]) -> None:
    assert json.loads(json.dumps(document)) == document
    machine = document["machine"]
    assert machine["cpus"] >= 1
    assert machine["python"].count(".") == 2
    table = render(document)
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("Estate"))
    for column in ("Calls", "List/rgn", "Tags/rgn", "Metric/rgn", "Peak MB", "Naive calls", "x fewer"):
        assert column in header
    rows = [line for line in lines if line.startswith(("20 x 1", "20 x 3"))]
    assert len(rows) == 8
    assert "MISSED" not in "\n".join(rows)
    assert "Weekly report, 3 projects" in table


def test_a_run_in_its_own_process_reports_its_own_memory() -> None:
    settings = BenchSettings(
        sizes=(PROFILES,),
        region_sets=(ONE_REGION,),
        ce_projects=(),
        isolate=True,
        build_dir=None,
        import_repeats=0,
        functions=("TagComplianceFunction",),
        naive=False,
    )
    document = run_benchmark(settings, progress=lambda _message: None)
    (estate,) = document["estates"]
    (function,) = estate["functions"]
    assert function["isolated"]
    assert function["calls_by_region"]["us-east-1"]["tag_reads"] == 1
    # The child's own peak, not that of this (larger) process, which spawned it.
    assert 0 < function["rss_before_mb"] <= function["peak_rss_mb"] < bench._peak_rss_mb()
    assert estate["naive"] is None


NOW = datetime(2026, 6, 15, 6, tzinfo=UTC)


def stored_usage(estate: Estate) -> set[tuple[str, datetime, float, str | None]]:
    """The datapoints the embedded CloudWatch holds, by profile name."""
    names = {p.profile_id: p.name for p in estate.profiles}
    return {
        # moto's backend types the list as MetricDatumBase (only MetricDatum has .value) and a
        # dimension's value as optional: put_metric_data with Value and dimensions stores neither case.
        (names[datum.dimensions[0].value], datum.timestamp, datum.value, datum.unit)  # type: ignore[index, attr-defined]
        for datum in cloudwatch_backends[ACCOUNT_ID][ONE_REGION[0]].metric_data
        if datum.namespace == "AWS/Bedrock" and datum.name == "Invocations"
    }


def test_usage_written_into_the_backend_is_what_put_usage_writes() -> None:
    with embedded_aws():
        through_the_api = seed_estate(EstateSpec(profiles=12, regions=ONE_REGION, now=NOW, costs=False))
        expected = stored_usage(through_the_api)
    with embedded_aws():
        estate = seed_estate(EstateSpec(profiles=12, regions=ONE_REGION, now=NOW, costs=False, usage=False))
        assert stored_usage(estate) == set()
        written = write_usage(estate, NOW, estate.spec.history_days)
        assert stored_usage(estate) == expected
    assert written == len(expected) > 0


def test_usage_covers_the_whole_window_the_idle_sweep_reads() -> None:
    with embedded_aws():
        estate = seed_estate(EstateSpec(profiles=12, regions=ONE_REGION, now=NOW, costs=False, usage=False))
        write_usage(estate, NOW, 180)
        cloudwatch = boto3.client("cloudwatch", region_name=ONE_REGION[0])
        older = 180 - estate.spec.history_days

        def days_with_traffic(profile_id: str) -> int:
            answer = cloudwatch.get_metric_statistics(
                Namespace="AWS/Bedrock",
                MetricName="Invocations",
                Dimensions=[{"Name": "ModelId", "Value": profile_id}],
                StartTime=NOW - timedelta(days=181),
                EndTime=NOW - timedelta(days=estate.spec.history_days),
                Period=86_400,
                Statistics=["Sum"],
            )
            return len(answer["Datapoints"])

        assert {days_with_traffic(p.profile_id) for p in estate.where(usage=Usage.BUSY)} == {older}
        assert {days_with_traffic(p.profile_id) for p in estate.where(usage=Usage.IDLE)} == {older}
        assert {days_with_traffic(p.profile_id) for p in estate.where(usage=Usage.YOUNG)} == {0}


def test_the_organization_row_counts_each_worker_against_the_account_scope_formula() -> None:
    from programs.organization_bench import (  # noqa: PLC0415 - the row is optional in the bench
        OrganizationBenchSettings,
        account_scope_calls,
        render_rows,
        run_organization_bench,
    )

    settings = OrganizationBenchSettings(
        accounts=4, ous=2, regions=("us-east-1", "eu-central-1"), profiles_per_target=20
    )
    figures = run_organization_bench(
        settings, datetime.now(UTC).replace(minute=0, second=0, microsecond=0), lambda _message: None
    )
    assert figures["accounts"] == 4
    assert figures["targets"] == figures["worker_invocations"] == 8
    assert figures["failed_targets"] == 0
    assert figures["account_scope_formula_plus_assume_role"] == account_scope_calls(20, idle=True) + 1 == 4
    assert figures["calls_match_formula"], figures["mismatches"]
    assert figures["calls_per_target"]["typical"]["sts:AssumeRole"] == 1
    assert figures["aggregation"]["checked"] == 4 * 2 * 20
    model = figures["model"]
    assert model["waves"] == 1
    assert model["aws_parallel_s"] < model["aws_sequential_s"]
    assert model["state_transitions"] == 4 + 2 * 8
    text = "\n".join(render_rows(figures))
    assert "ok, every target" in text
    assert "modelled on AWS" in text

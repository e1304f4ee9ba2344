"""How much each application inference profile was invoked, from CloudWatch, 500 profiles a call.

Which metric measures a profile's traffic is decided here and nowhere else: namespace
``AWS/Bedrock``, metric ``Invocations``, statistic ``Sum``, dimension ``ModelId`` = the profile's
short ``inferenceProfileId`` (not its ARN; see docs/aws-behaviour.md). A profile without traffic has no
datapoints at all, which means zero.

One ``GetMetricData`` query per profile with a daily period gives both numbers the idle policy
needs in a single request: the total over the idle window and the last day with traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from bedrock_governance.aws.errors import aws_call
from bedrock_governance.core.batching import chunks
from bedrock_governance.core.models import UsageHistory

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef, MetricTypeDef

# The one place that says which metric is a profile's usage.
USAGE_NAMESPACE: Final = "AWS/Bedrock"
USAGE_METRIC: Final = "Invocations"
USAGE_STATISTIC: Final = "Sum"
USAGE_DIMENSION: Final = "ModelId"

# GetMetricData limits: 500 queries a request, 100,800 datapoints a response (more are paged).
QUERIES_PER_CALL: Final = 500
DATAPOINTS_PER_RESPONSE: Final = 100_800
DAY_SECONDS: Final = 86_400
# The longest daily history that fits one response even when all 500 profiles have traffic
# every day, so N profiles cost ceil(N/500) calls and never a second page.
MAX_HISTORY_DAYS: Final = DATAPOINTS_PER_RESPONSE // QUERIES_PER_CALL
# The status of a query the answer did not mention at all.
MISSING_RESULT: Final = "Missing"


def usage_metric(profile_id: str) -> MetricTypeDef:
    """The CloudWatch metric that counts invocations through one application profile."""
    return {
        "Namespace": USAGE_NAMESPACE,
        "MetricName": USAGE_METRIC,
        "Dimensions": [{"Name": USAGE_DIMENSION, "Value": profile_id}],
    }


def usage_window_end(now: datetime) -> datetime:
    """``now`` rounded up to the next hour (``now`` itself when it is on the hour).

    The window must reach ``now``: traffic at 06:10 is use for a run at 06:30. It ends on the
    hour because CloudWatch rounds a start time older than 63 days down to the hour (15 days:
    5 minutes), so a window that starts on the hour gets day buckets exactly where this code
    expects them. An end time after ``now`` is allowed and adds nothing: there are no datapoints yet.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    moment = now.astimezone(UTC)
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def query_id(index: int) -> str:
    """Query ids must start with a lowercase letter; profile ids are not used, so nothing about
    their format matters here."""
    return f"p{index}"


class InvocationReader:
    """Reads the daily invocation sums of application profiles in one region."""

    def __init__(self, client: CloudWatchClient) -> None:
        self._client = client

    def daily_invocations(self, profile_ids: Sequence[str], *, now: datetime, days: int) -> dict[str, UsageHistory]:
        """Daily invocations of each profile over the ``days`` days before ``now`` (rounded down to
        the hour): ceil(N/500) GetMetricData calls for N profiles."""
        if not 1 <= days <= MAX_HISTORY_DAYS:
            raise ValueError(f"days must be 1..{MAX_HISTORY_DAYS}, got {days}")
        end = usage_window_end(now)
        start = end - timedelta(days=days)
        unique = list(dict.fromkeys(profile_ids))
        histories: dict[str, UsageHistory] = {}
        # Every profile has the same day buckets: one datetime object per bucket, shared by all
        # histories, instead of one per datapoint (about 150 MB for 15,000 busy profiles over
        # 180 days, measured by `make bench`).
        buckets: dict[datetime, datetime] = {}
        for batch in chunks(unique, QUERIES_PER_CALL):
            histories.update(self._read_batch(batch, start, end, buckets))
        return histories

    def _read_batch(
        self, profile_ids: Sequence[str], start: datetime, end: datetime, buckets: dict[datetime, datetime]
    ) -> dict[str, UsageHistory]:
        ids = {query_id(index): profile_id for index, profile_id in enumerate(profile_ids)}
        queries: list[MetricDataQueryTypeDef] = [
            {
                "Id": qid,
                "MetricStat": {"Metric": usage_metric(profile_id), "Period": DAY_SECONDS, "Stat": USAGE_STATISTIC},
                "ReturnData": True,
            }
            for qid, profile_id in ids.items()
        ]
        daily: dict[str, dict[datetime, float]] = {qid: {} for qid in ids}
        # A query is unknown until its result arrives: an answer that leaves a query out says
        # nothing about that profile, and nothing must be decided for it (absent data is zero
        # only for a result that was returned).
        status: dict[str, str] = dict.fromkeys(ids, MISSING_RESULT)
        problems: dict[str, list[str]] = {qid: [] for qid in ids}
        answer_problems: list[str] = []
        with aws_call("cloudwatch", "GetMetricData"):
            paginator = self._client.get_paginator("get_metric_data")
            # A query's datapoints may continue on the next page (status PartialData until then).
            for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end):
                # Messages about the answer as a whole (e.g. MaxQueryTimeRangeExceed) put every
                # query of the request in doubt.
                answer_problems += [
                    f"{m.get('Code', '')}: {m.get('Value', '')}".strip(": ") for m in page.get("Messages", [])
                ]
                for result in page.get("MetricDataResults", []):
                    qid = result.get("Id", "")
                    if qid not in daily:
                        continue
                    for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                        bucket = stamp.astimezone(UTC)
                        # A datapoint is never repeated across pages; assignment keeps a retry honest.
                        daily[qid][buckets.setdefault(bucket, bucket)] = float(value)
                    status[qid] = result.get("StatusCode", "Complete")
                    problems[qid] += [m.get("Value", m.get("Code", "")) for m in result.get("Messages", [])]
        return {
            profile_id: UsageHistory(
                start=start,
                end=end,
                daily=daily[qid],
                complete=status[qid] == "Complete" and not answer_problems,
                problem=_problem(status[qid], problems[qid], answer_problems),
            )
            for qid, profile_id in ids.items()
        }


def _problem(status: str, messages: Sequence[str], answer_messages: Sequence[str]) -> str:
    """Why one profile's usage is not known, or '' when it is."""
    if answer_messages:
        return "CloudWatch flagged the whole answer: " + "; ".join(answer_messages)
    if status == MISSING_RESULT:
        return "CloudWatch returned no result for this profile's query"
    if status != "Complete":
        return f"CloudWatch status {status}" + (f": {'; '.join(messages)}" if messages else "")
    return ""

"""A stricter CloudWatch GetMetricData for tests, where moto is laxer than AWS.

moto 5.2.5 ignores a query's ``Namespace`` whenever it has dimensions, evaluates no metric math
(an expression only echoes a query with that exact id) and accepts any number of queries with any
ids. Code that relied on any of that would pass against moto and fail against AWS. Inside
:func:`strict_cloudwatch` the embedded CloudWatch behaves as AWS does on those points, or refuses
loudly where it cannot (metric math):

* a ``MetricStat`` query only sees datapoints of its own namespace;
* a query with an ``Expression`` (metric math, Metrics Insights) is refused;
* more than 500 queries, an id not starting with a lowercase letter, or a repeated id is refused.

It wraps moto's backend method, so it applies in-process and to handlers run by the stack harness.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend

from embedded_aws.indexed_cloudwatch import check_query_limits


@contextmanager
def strict_cloudwatch() -> Iterator[list[list[dict[str, Any]]]]:
    """Make the embedded CloudWatch strict; yields the list of query lists it was asked."""
    original = CloudWatchBackend.get_metric_data
    asked: list[list[dict[str, Any]]] = []

    def strict_get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: Any,
        end_time: Any,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        asked.append(queries)
        check_query_limits(queries)
        if any("Expression" in query for query in queries):
            raise ValidationError(
                "strict embedded CloudWatch: metric math and Metrics Insights are not evaluated by moto; "
                "code must not depend on them"
            )
        everything = self.get_all_metrics
        by_id: dict[str, dict[str, Any]] = {}
        namespaces = dict.fromkeys(query["MetricStat"]["Metric"]["Namespace"] for query in queries)
        for namespace in namespaces:
            group = [q for q in queries if q["MetricStat"]["Metric"]["Namespace"] == namespace]

            def of_namespace(namespace: str = namespace) -> list[Any]:
                return [datum for datum in everything() if datum.namespace == namespace]

            self.get_all_metrics = of_namespace  # type: ignore[method-assign]
            try:
                for result in original(self, group, start_time, end_time, scan_by):
                    by_id[result["id"]] = result
            finally:
                del self.get_all_metrics
        # Answers come back in the order of the queries, as AWS returns them.
        return [by_id[query["Id"]] for query in queries if query["Id"] in by_id]

    CloudWatchBackend.get_metric_data = strict_get_metric_data  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        CloudWatchBackend.get_metric_data = original  # type: ignore[method-assign]

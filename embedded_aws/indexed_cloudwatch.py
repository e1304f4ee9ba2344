"""CloudWatch metric reads for large seeded estates: moto's answers, indexed instead of scanned.

moto 5.2.5 answers ``GetMetricData`` by scanning every stored datapoint once per query *and* per
period (500 queries x 180 daily periods x every datapoint of the region), and
``GetMetricStatistics`` by scanning every datapoint per call. With thousands of profiles and weeks
of usage that takes hours, so the benchmark could not run the idle sweep, nor the naive
one-call-per-profile approach, on 5,000 profiles a region.

Inside :func:`indexed_cloudwatch` both operations read an index of the datapoints by
(namespace, metric name, dimensions) that is brought up to date at each request. The answers are
built the way moto builds them (same bucketing, same :class:`~moto.cloudwatch.models.Statistics`,
same order of datapoints inside a bucket, same labels, ``ScanBy`` and ``ReturnData`` handling),
with three differences, all of them towards AWS:

* a ``MetricStat`` query only sees datapoints of its own namespace (moto ignores the namespace
  when the query has dimensions; AWS does not);
* AWS's request limits are enforced: at most 500 queries, ids that start with a lowercase letter
  and are unique, exactly one of ``MetricStat`` and ``Expression`` in each query;
* an ``Expression`` is computed only when it is the id of a ``MetricStat`` query of the request
  (its series, under the expression's own id and label); any other metric math, ``SEARCH`` or
  Metrics Insights query is refused with a ``ValidationError`` that says the embedded AWS does not
  evaluate it. moto answers those with an empty ``Complete`` series, which code could mistake
  for "no traffic".

The local server (:mod:`embedded_aws.server`) serves CloudWatch this way too.

``tests/embedded_aws/test_indexed_cloudwatch.py`` compares every answer with moto's (namespace
honoured as in :mod:`tests.embedded_aws.strict_cloudwatch`) on generated data. Opt-in, because
the embedded AWS's own tests pin moto's laxer namespace handling down.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from moto.cloudwatch.exceptions import InvalidParameterValue, ValidationError
from moto.cloudwatch.models import CloudWatchBackend, Dimension, MetricDatumBase, Statistics, daterange

MAX_QUERIES: Final = 500
QUERY_ID: Final = re.compile(r"[a-z][a-zA-Z0-9_]*")

_INDEX_ATTRIBUTE: Final = "_embedded_aws_metric_index"
_DimensionsKey = tuple[tuple[str | None, str | None], ...]
_SeriesKey = tuple[str, str, _DimensionsKey]
_Entry = tuple[int, MetricDatumBase]


@dataclass
class _Series:
    """Datapoints with one namespace, name and (ordered) dimension list, in the order they were put."""

    dimensions: list[Dimension]
    entries: list[_Entry] = field(default_factory=list)


class _Index:
    """The datapoints of one backend by series. moto only ever appends to ``metric_data`` (a reset
    replaces the backend's state), so the index catches up by indexing what was appended."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._clear(None)

    def _clear(self, source: list[MetricDatumBase] | None) -> None:
        self._source = source
        self._indexed = 0
        self._series: dict[_SeriesKey, _Series] = {}
        self._by_metric: dict[tuple[str, str], list[_SeriesKey]] = {}
        self._by_dimension: dict[tuple[str, str, str | None, str | None], list[_SeriesKey]] = {}

    def refresh(self, data: list[MetricDatumBase]) -> None:
        """Index what was appended since the last request (everything, for a new or shrunk list)."""
        if data is not self._source or len(data) < self._indexed:
            self._clear(data)
        for seq in range(self._indexed, len(data)):
            self._add(seq, data[seq])
        self._indexed = len(data)

    def _add(self, seq: int, datum: MetricDatumBase) -> None:
        dimensions: _DimensionsKey = tuple((d.name, d.value) for d in datum.dimensions)
        key = (datum.namespace, datum.name, dimensions)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = _Series(list(datum.dimensions))
            self._by_metric.setdefault((datum.namespace, datum.name), []).append(key)
            for name, value in dimensions:
                self._by_dimension.setdefault((datum.namespace, datum.name, name, value), []).append(key)
        series.entries.append((seq, datum))

    def candidates(self, namespace: str, name: str, dimensions: Sequence[Dimension]) -> list[_Series]:
        """Series that may match: those carrying the first dimension with a value (or one with no
        value, which moto's comparison treats as a wildcard), else every series of the metric."""
        anchor = next((d for d in dimensions if d.value is not None), None)
        if anchor is None:
            keys: Iterable[_SeriesKey] = self._by_metric.get((namespace, name), [])
        else:
            keys = [
                *self._by_dimension.get((namespace, name, anchor.name, anchor.value), []),
                *self._by_dimension.get((namespace, name, anchor.name, None), []),
            ]
        return [self._series[key] for key in dict.fromkeys(keys)]


def _index_of(backend: CloudWatchBackend) -> _Index:
    index = backend.__dict__.get(_INDEX_ATTRIBUTE)
    if not isinstance(index, _Index):
        index = _Index()
        setattr(backend, _INDEX_ATTRIBUTE, index)
    return index


def _matching(
    index: _Index,
    extra: Sequence[MetricDatumBase],
    namespace: str,
    name: str,
    wanted: _ExactDimensions | _IncludesDimensions,
) -> list[MetricDatumBase]:
    """Datapoints of ``namespace``/``name`` whose dimensions satisfy ``wanted(dimensions)``, in the
    order moto's ``get_all_metrics()`` lists them (stored data, then provider metrics)."""
    dimensions = wanted.dimensions
    entries: list[_Entry] = []
    matched_series = 0
    for series in index.candidates(namespace, name, dimensions):
        if wanted(series.dimensions):
            entries += series.entries
            matched_series += 1
    if matched_series > 1:
        entries.sort(key=lambda entry: entry[0])
    found = [datum for _, datum in entries]
    found += [d for d in extra if d.namespace == namespace and d.name == name and wanted(d.dimensions)]
    return found


class _ExactDimensions:
    """GetMetricData's test, as moto writes it: the same dimensions in any order (none: any)."""

    def __init__(self, dimensions: list[Dimension]) -> None:
        self.dimensions = dimensions
        self._sorted = sorted(dimensions)

    def __call__(self, candidate: list[Dimension]) -> bool:
        return not self.dimensions or sorted(candidate) == self._sorted


class _IncludesDimensions:
    """GetMetricStatistics's test, as moto writes it: every asked dimension is present."""

    def __init__(self, dimensions: list[Dimension]) -> None:
        self.dimensions = dimensions

    def __call__(self, candidate: list[Dimension]) -> bool:
        return all(d in candidate for d in self.dimensions)


def check_query_limits(queries: Sequence[dict[str, Any]]) -> None:
    """GetMetricData's own limits, which moto does not enforce: 500 queries, ids as AWS allows."""
    if len(queries) > MAX_QUERIES:
        raise ValidationError(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
    ids = [str(query.get("Id", "")) for query in queries]
    for query_id in ids:
        if not QUERY_ID.fullmatch(query_id):
            raise ValidationError(f"The value {query_id} for parameter MetricDataQueries.member.Id is not valid.")
    if len(set(ids)) != len(ids):
        raise ValidationError("The values for parameter id in MetricDataQueries are not unique.")


def _expression_kind(expression: str) -> str:
    text = expression.strip().upper()
    if text.startswith("SELECT"):
        return "Metrics Insights queries"
    if "SEARCH(" in text.replace(" ", ""):
        return "SEARCH expressions"
    return "metric math"


def check_expressions(queries: Sequence[dict[str, Any]]) -> None:
    """Refuse what the embedded CloudWatch cannot compute, instead of answering it with no data.

    A query carries exactly one of ``MetricStat`` and ``Expression`` (as AWS requires); the only
    expression computed is the bare id of a ``MetricStat`` query of the same request.
    """
    stat_ids = {str(query.get("Id")) for query in queries if "MetricStat" in query}
    for position, query in enumerate(queries, start=1):
        expression = query.get("Expression")
        if "MetricStat" not in query and expression is None:
            raise ValidationError(f"The parameter MetricDataQueries.member.{position}.MetricStat is required.")
        if "MetricStat" in query and expression is not None:
            raise ValidationError(
                f"Exactly one of MetricDataQueries.member.{position}.MetricStat and "
                f"MetricDataQueries.member.{position}.Expression must be specified."
            )
        if expression is None or str(expression).strip() in stat_ids:
            continue
        raise ValidationError(
            f"The embedded AWS does not evaluate {_expression_kind(str(expression))}: "
            f'MetricDataQueries.member.{position} (Id {query.get("Id")}) has the Expression "{expression}". '
            "Only MetricStat queries and an Expression that is the Id of one of them are computed; "
            "anything else is refused rather than answered with an empty result."
        )


_original_get_metric_data = CloudWatchBackend.get_metric_data
_original_get_metric_statistics = CloudWatchBackend.get_metric_statistics


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    check_query_limits(queries)
    check_expressions(queries)
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time > end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    extra = self.aws_metric_data
    index = _index_of(self)
    series: dict[str, dict[str, Any]] = {}
    with index.lock:
        index.refresh(self.metric_data)
        for query in queries:
            if "MetricStat" not in query:
                continue
            stat_spec = query["MetricStat"]
            metric = stat_spec["Metric"]
            name = metric["MetricName"]
            delta = timedelta(seconds=int(stat_spec["Period"]))
            wanted = _ExactDimensions([Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])])
            unit = stat_spec.get("Unit")
            stat = stat_spec["Stat"]
            buckets: dict[int, list[MetricDatumBase]] = {}
            for datum in _matching(index, extra, metric["Namespace"], name, wanted):
                if start_time <= datum.timestamp < end_time and (not unit or datum.unit == unit):
                    buckets.setdefault((datum.timestamp - start_time) // delta, []).append(datum)
            values: list[Any] = []
            timestamps: list[datetime] = []
            for bucket in sorted(buckets):
                stats = Statistics([stat], start_time + bucket * delta)
                stats.metric_data = buckets[bucket]
                values.append(stats.get_statistics_for_type(stat))
                timestamps.append(stats.timestamp)
            if scan_by == "TimestampDescending":
                timestamps.reverse()
                values.reverse()
            series[query["Id"]] = {
                "id": query["Id"],
                "label": query.get("Label") or f"{name} {stat}",
                "values": values,
                "timestamps": timestamps,
                "status_code": "Complete",
            }
    results: list[dict[str, Any]] = []
    for query in queries:
        if not query.get("ReturnData", True):
            continue
        if "MetricStat" in query:
            results.append(series[query["Id"]])
        else:
            # The one expression computed: another query's series, under this query's id and label.
            named = series[str(query["Expression"]).strip()]
            label = query.get("Label") or query["Id"]
            results.append(
                {
                    **named,
                    "id": query["Id"],
                    "label": label,
                    "values": [*named["values"]],
                    "timestamps": [*named["timestamps"]],
                }
            )
    return results


def get_metric_statistics(  # noqa: PLR0917 - moto's signature, called positionally
    self: CloudWatchBackend,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Statistics]:
    start_time = start_time.replace(microsecond=0)
    end_time = end_time.replace(microsecond=0)
    if start_time >= end_time:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    period_delta = timedelta(seconds=period)
    extra = self.aws_metric_data
    index = _index_of(self)
    wanted = _IncludesDimensions([Dimension(d["Name"], d.get("Value")) for d in dimensions or []])
    with index.lock:
        index.refresh(self.metric_data)
        found = _matching(index, extra, namespace, metric_name, wanted)
    filtered = [md for md in found if start_time <= md.timestamp < end_time and (not unit or md.unit == unit)]
    # From here on exactly moto's bucketing: from the first datapoint, one period at a time.
    filtered.sort(key=lambda md: md.timestamp)
    if not filtered:
        return []
    position = 0
    data: list[Statistics] = []
    for moment in daterange(filtered[0].timestamp, filtered[-1].timestamp + period_delta, period_delta):
        bucket = Statistics(stats, moment)
        while position < len(filtered) and filtered[position].timestamp < moment + period_delta:
            bucket.metric_data.append(filtered[position])
            bucket.unit = filtered[position].unit
            position += 1
        if bucket.metric_data:
            data.append(bucket)
    return data


_lock = threading.Lock()
_active = 0


@contextmanager
def indexed_cloudwatch() -> Iterator[None]:
    """Serve GetMetricData and GetMetricStatistics from the index (in-process and for a server in
    this process). Nestable; moto's own methods are back when the outermost block ends."""
    global _active  # noqa: PLW0603 - one process-wide patch, like moto's own registries
    with _lock:
        _active += 1
        CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
        CloudWatchBackend.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                CloudWatchBackend.get_metric_data = _original_get_metric_data  # type: ignore[method-assign]
                CloudWatchBackend.get_metric_statistics = _original_get_metric_statistics  # type: ignore[method-assign]

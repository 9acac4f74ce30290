"""Google's GA4 MCP server (the PyPI package analytics-mcp) as published, run over stdio, with only its Data
API client replaced: its own tools, argument handling and RunReportRequest building run as they are, and
the fake client answers each RunReportRequest with a real RunReportResponse made from recorded rows
(FAKE_GA4_DATA: ga4_sessions.json, ga4_steps.json, rows of dimension and metric values by name).

The fake applies what the Data API applies to the request: its date range, its dimensions and metrics in
the order asked, an in-list dimension filter, limit and offset, and it sorts the rows (the API's default
order is not the tests' to rely on). Each request is appended to FAKE_GA4_REQUEST_LOG as JSON (the proto's
own dict form), so a test can see what the server really built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import analytics_mcp.tools.reporting.core as reporting
from analytics_mcp.server import run_server
from google.analytics import data_v1beta

DATA = Path(os.environ.get("FAKE_GA4_DATA", "."))


class FakeDataClient:
    """Answers run_report like BetaAnalyticsDataClient, from the recorded rows."""

    def run_report(self, request: data_v1beta.RunReportRequest) -> data_v1beta.RunReportResponse:
        log = os.environ.get("FAKE_GA4_REQUEST_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(data_v1beta.RunReportRequest.to_dict(request)) + "\n")
        dimensions = [d.name for d in request.dimensions]
        metrics = [m.name for m in request.metrics]
        recorded = json.loads((DATA / ("ga4_steps.json" if "eventName" in dimensions else "ga4_sessions.json"))
                              .read_text(encoding="utf-8"))
        span = request.date_ranges[0]
        start, end = span.start_date.replace("-", ""), span.end_date.replace("-", "")
        allowed = None
        if "dimension_filter" in request:
            in_list = request.dimension_filter.filter.in_list_filter
            allowed = (request.dimension_filter.filter.field_name, set(in_list.values))
        rows = [r for r in recorded
                if start <= r["date"] <= end and (allowed is None or r.get(allowed[0]) in allowed[1])]
        rows.sort(key=lambda r: tuple(str(r[d]) for d in dimensions))
        offset = request.offset or 0
        chunk = rows[offset:offset + (request.limit or 10_000)]
        return data_v1beta.RunReportResponse(
            dimension_headers=[data_v1beta.DimensionHeader(name=d) for d in dimensions],
            metric_headers=[data_v1beta.MetricHeader(name=m, type_=data_v1beta.MetricType.TYPE_INTEGER)
                            for m in metrics],
            rows=[data_v1beta.Row(dimension_values=[data_v1beta.DimensionValue(value=str(r[d])) for d in dimensions],
                                  metric_values=[data_v1beta.MetricValue(value=str(r[m])) for m in metrics])
                  for r in chunk],
            row_count=len(rows),
            kind="analyticsData#runReport",
        )


reporting.create_data_api_client = FakeDataClient

if __name__ == "__main__":
    run_server([])

"""The weekly cost report as people and programs read it: plain-text mail, JSON, HTML with charts, CSV.

The mail (:mod:`.text`) and the JSON (:mod:`.document`) travel together in one SNS message
(``MessageStructure="json"``), so both show the same top projects and :func:`render` takes that
number as ``limit``; the job asks :func:`bedrock_governance.core.notify.fit` for the largest limit
that fits SNS. The HTML (:mod:`.html`) and the CSV (:mod:`.csv`) go to S3 and carry every project.
"""

from bedrock_governance.cost.render.csv import render_csv
from bedrock_governance.cost.render.document import item_count, render, render_access_alert, render_document
from bedrock_governance.cost.render.html import render_html
from bedrock_governance.cost.render.text import (
    ReportFiles,
    percent_text,
    render_text,
    sparkline,
    subject,
)

__all__ = [
    "ReportFiles",
    "item_count",
    "percent_text",
    "render",
    "render_access_alert",
    "render_csv",
    "render_document",
    "render_html",
    "render_text",
    "sparkline",
    "subject",
]

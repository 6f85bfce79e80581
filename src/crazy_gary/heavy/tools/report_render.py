"""Rendering a report: HTML with jinja2 (autoescaped), PDF with reportlab."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_env = Environment(loader=PackageLoader("crazy_gary.heavy.tools", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))

SEVERITY_COLOURS = {"high": colors.HexColor("#b00020"), "medium": colors.HexColor("#b26a00"),
                    "low": colors.HexColor("#555555")}


def render_html(report: dict[str, Any]) -> str:
    return _env.get_template("report.html.j2").render(**report)


def render_pdf(report: dict[str, Any], path: Path) -> None:
    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    cell.fontSize = 8
    cell.leading = 10
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=report["title"],
                            leftMargin=15 * mm, rightMargin=15 * mm)
    s = report["summary"]
    story: list[Any] = [
        Paragraph(escape(report["title"]), styles["Title"]),
        Paragraph(escape(f"Generated {report['generated_at']}"
                         + (f" from {', '.join(report['sources'])}" if report["sources"] else "")),
                  styles["Normal"]),
        Spacer(1, 6 * mm),
        Paragraph("Summary", styles["Heading2"]),
        _table([["Total issues", "High", "Medium", "Low"],
                [s["total_issues"], s["high_severity"], s["medium_severity"],
                 s["low_severity"]]], widths=[45 * mm] * 4),
        Spacer(1, 6 * mm),
        Paragraph("Findings", styles["Heading2"]),
    ]
    if report["findings"]:
        rows: list[list[Any]] = [["Severity", "Type", "Location", "Description"]]
        for f in report["findings"]:
            where = f["file"] + (f":{f['line']}" if f.get("line") else "")
            rows.append([Paragraph(escape(f["severity"]), cell), Paragraph(escape(f["type"]), cell),
                         Paragraph(escape(where), cell), Paragraph(escape(f["description"]), cell)])
        table = _table(rows, widths=[18 * mm, 35 * mm, 45 * mm, 82 * mm])
        for i, f in enumerate(report["findings"], start=1):
            table.setStyle([("TEXTCOLOR", (0, i), (0, i), SEVERITY_COLOURS[f["severity"]])])
        story.append(table)
    else:
        story.append(Paragraph("No issues found.", styles["Normal"]))
    if report["recommendations"]:
        story += [Spacer(1, 6 * mm), Paragraph("Recommendations", styles["Heading2"])]
        for r in report["recommendations"]:
            story.append(Paragraph(
                f"<b>{escape(r['type'])}</b> ({r['count']}): {escape(r['recommendation'])}",
                styles["BodyText"]))
    doc.build(story)


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table

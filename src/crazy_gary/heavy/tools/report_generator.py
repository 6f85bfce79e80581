"""report_generator: a real report (PDF, HTML or JSON) of the findings it is given,
written to the caller's workspace as a downloadable artifact."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from crazy_gary.config import get_settings
from crazy_gary.errors import AppError
from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext, ToolError
from crazy_gary.heavy.tools.code_analyzer import SEVERITIES, summarize
from crazy_gary.heavy.tools.report_render import render_html, render_pdf
from crazy_gary.kit.clock import iso_now
from crazy_gary.toolhub import files
from crazy_gary.toolhub.workspace import resolve_in_workspace, workspace_root

MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html", "json": "application/json"}

RECOMMENDATIONS = {
    "SQL Injection": "Use parameterised queries (bound parameters) instead of building SQL from "
                     "strings; never concatenate user input into a query.",
    "Command Injection": "Pass an argument list to subprocess without shell=True, and "
                         "validate anything that reaches a command line.",
    "Unsafe YAML Load": "Use yaml.safe_load (or yaml.load with SafeLoader) for untrusted "
                        "input.",
    "Hardcoded Password": "Move secrets to the environment or a secret manager and rotate "
                          "the exposed value.",
    "Unsafe Deserialization": "Do not unpickle untrusted data; use JSON or a schema-checked "
                              "format.",
    "Code Injection": "Remove eval/exec on data; parse it with a safe parser instead.",
    "Weak Hash": "Use SHA-256 or better (or a password hash such as argon2 for passwords).",
    "Weak Cryptography": "Use a modern, vetted cryptographic primitive.",
    "High Complexity": "Split the function into smaller ones with a single purpose each; "
                       "cover the branches with tests first.",
    "Complexity Hot Spot": "Simplify the hot path: table-driven rules or early returns cut "
                           "the branches evaluated per call.",
    "Low Maintainability": "Refactor the module into smaller units with clear names.",
    "Performance": "Apply the suggested idiom (comprehensions, avoiding repeated work in "
                   "loops).",
    "Code Error": "Fix the reported error; unused imports and names hide real mistakes.",
}
DEFAULT_RECOMMENDATION = "Review the finding and fix it or document why it is acceptable."


class ReportGenerator(Tool):
    name = "report_generator"
    title = "Report Generation"
    description = "Generate reports in various formats"
    category = "reporting"
    parameters = {
        "format": {"type": "string", "enum": ["pdf", "html", "json"],
                   "description": "Output format", "required": True},
        "include_recommendations": {"type": "boolean", "default": True,
                                    "description": "Include recommendations in report",
                                    "required": False},
        "title": {"type": "string", "maxLength": 200, "description": "Report title",
                  "required": False},
        "findings": {"type": ["array", "object"],
                     "description": "Findings to report (a list, or an analysis result); "
                                    "default: the results of the earlier steps",
                     "required": False},
        "output": {"type": "string", "maxLength": 500,
                   "description": "Workspace path of the report file (default under reports/)",
                   "required": False},
    }
    typical_seconds = 2.0

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        findings, sources = collect_findings(params.get("findings"), ctx)
        if findings is None:
            raise ToolError("nothing to report: pass `findings`, or run after an analysis step")
        _check_size(findings)
        fmt = params["format"]
        findings = sorted(findings, key=lambda f: (_rank(f), str(f.get("file")), _line(f)))
        report = {
            "title": params.get("title") or "Code Analysis Report",
            "generated_at": iso_now(),
            "sources": sources,
            "summary": summarize(findings),
            "findings": findings,
            "recommendations": recommendations(findings)
            if params.get("include_recommendations", True) else [],
        }
        default_name = (f"reports/{ctx.orchestration_id or 'adhoc'}/"
                        f"report-{ctx.step or iso_now().replace(':', '')}.{fmt}")
        try:
            path = resolve_in_workspace(ctx.user_id, params.get("output") or default_name)
            root = workspace_root(ctx.user_id)
        except AppError as exc:
            raise ToolError(exc.message) from exc
        try:
            await asyncio.to_thread(files.write_produced, ctx.user_id, path,
                                    lambda tmp: _render(tmp, fmt, report))
        except AppError as exc:  # quota, a file where a directory is needed
            raise ToolError(exc.message) from exc
        rel = path.relative_to(root).as_posix()
        artifact = {"name": path.name, "path": rel, "format": fmt, "media_type": MEDIA_TYPES[fmt],
                    "size": path.stat().st_size, "download_url": f"/api/workspace/files/{rel}"}
        return {"report": artifact, "artifacts": [artifact], "summary": report["summary"],
                "findings_reported": len(findings),
                "recommendations": report["recommendations"]}


def collect_findings(given: Any, ctx: ToolContext) -> tuple[list[dict[str, Any]] | None,
                                                             list[str]]:
    """Findings from the parameter, else from earlier steps' results; None when neither
    holds any analysis."""
    if given is not None:
        found = _findings_in(given)
        return (found if found is not None else []), ["parameters"]
    collected: list[dict[str, Any]] | None = None
    sources = []
    for step, prev in sorted(ctx.previous.items()):
        if prev.get("status") != "completed":
            continue
        found = _findings_in(prev.get("result"))
        if found is not None:
            collected = (collected or []) + found
            sources.append(f"step {step} ({prev.get('tool')})")
    return collected, sources


def _findings_in(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list):
        return [_normal(f) for f in value if isinstance(f, dict)]
    if isinstance(value, dict):
        for key in ("findings", "vulnerabilities", "issues"):
            if isinstance(value.get(key), list):
                return [_normal(f) for f in value[key] if isinstance(f, dict)]
    return None


def _normal(f: dict[str, Any]) -> dict[str, Any]:
    severity = str(f.get("severity", "low")).lower()
    return {**f, "severity": severity if severity in SEVERITIES else "low",
            "type": str(f.get("type") or "Issue"), "file": str(f.get("file") or ""),
            "description": str(f.get("description") or "")}


def _check_size(findings: list[dict[str, Any]]) -> None:
    """Findings gathered from many earlier steps are bounded like a step's parameters."""
    limit = get_settings().heavy_max_parameters_bytes
    size = len(json.dumps(findings, default=str).encode())
    if size > limit:
        raise ToolError(f"the findings to report are {size} bytes; the limit is {limit} bytes")


def recommendations(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    worst: dict[str, int] = {}
    for f in findings:
        counts[f["type"]] = counts.get(f["type"], 0) + 1
        worst[f["type"]] = min(worst.get(f["type"], 9), _rank(f))
    return [{"type": t, "count": counts[t], "severity": SEVERITIES[worst[t]],
             "recommendation": RECOMMENDATIONS.get(t, DEFAULT_RECOMMENDATION)}
            for t in sorted(counts, key=lambda t: (worst[t], -counts[t], t))]


def _rank(f: dict[str, Any]) -> int:
    return SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else 2


def _line(f: dict[str, Any]) -> int:
    return f["line"] if isinstance(f.get("line"), int) else 0


def _render(path: Path, fmt: str, report: dict[str, Any]) -> None:
    if fmt == "json":
        path.write_text(json.dumps(report, indent=2, default=str))
    elif fmt == "html":
        path.write_text(render_html(report))
    else:
        render_pdf(report, path)


register(ReportGenerator())

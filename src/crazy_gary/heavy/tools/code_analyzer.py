"""code_analyzer: real static analysis of a path in the caller's workspace.

security    bandit (every finding, severity as bandit rates it)
quality     ruff lint findings, radon cyclomatic complexity and maintainability index
performance ruff's performance rules (PERF) and radon's complexity hot spots
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from crazy_gary.heavy.tools import register
from crazy_gary.heavy.tools.base import Tool, ToolContext
from crazy_gary.heavy.tools.processes import WorkspaceTargets, run_json, workspace_targets

SEVERITIES = ("high", "medium", "low")

BANDIT_TYPES = {
    "B608": "SQL Injection",
    "B602": "Command Injection", "B605": "Command Injection", "B604": "Command Injection",
    "B603": "Subprocess Without Shell", "B607": "Partial Executable Path",
    "B404": "Subprocess Import",
    "B105": "Hardcoded Password", "B106": "Hardcoded Password", "B107": "Hardcoded Password",
    "B506": "Unsafe YAML Load",
    "B301": "Unsafe Deserialization", "B403": "Unsafe Deserialization",
    "B307": "Code Injection", "B102": "Code Injection",
    "B303": "Weak Cryptography", "B324": "Weak Hash", "B311": "Insecure Randomness",
    "B501": "Certificate Validation Disabled", "B104": "Binding All Interfaces",
    "B108": "Insecure Temporary File", "B110": "Exception Swallowed", "B101": "Assert Used",
}
# bandit otherwise reads a `.bandit` file found among the targets (it can name an output file).
BANDIT_INI = str(Path(__file__).with_name("bandit.ini"))
QUALITY_RULES = "E,F,W,B,SIM,UP"  # complexity comes from radon
# Cyclomatic complexity: radon ranks C (11-20) and worse are hot spots.
COMPLEXITY_SEVERITY = {"C": "low", "D": "medium", "E": "high", "F": "high"}


class CodeAnalyzer(Tool):
    name = "code_analyzer"
    title = "Code Analysis"
    description = "Analyze code for security, performance, and quality issues"
    category = "analysis"
    parameters = {
        "target": {"type": "string", "description": "Target directory or file",
                   "required": True, "minLength": 1},
        "type": {"type": "string", "enum": ["security", "performance", "quality", "all"],
                 "description": "Analysis type", "required": True},
    }
    typical_seconds = 5.0

    async def run(self, ctx: ToolContext, params: dict[str, Any]) -> Any:
        target = workspace_targets(ctx.user_id, params["target"])
        kind = params["type"]
        jobs: dict[str, Any] = {"cc": _radon_cc(target)}
        if kind in ("security", "all"):
            jobs["bandit"] = _bandit(target)
        if kind in ("quality", "all"):
            jobs["ruff_quality"] = _ruff(target, QUALITY_RULES, "quality")
            jobs["mi"] = _radon_mi(target)
        if kind in ("performance", "all"):
            jobs["ruff_performance"] = _ruff(target, "PERF", "performance")
        await ctx.report_progress(10)
        out = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
        findings: list[dict[str, Any]] = []
        for key in ("bandit", "ruff_quality", "ruff_performance"):
            findings += out.get(key, [])
        blocks, maintainability = out["cc"], out.get("mi", {})
        if kind != "security":
            category = "performance" if kind == "performance" else "quality"
            findings += [_complexity_finding(b, category) for b in blocks
                         if b["rank"] in COMPLEXITY_SEVERITY]
        findings += [_maintainability_finding(f, m) for f, m in maintainability.items()
                     if m["rank"] == "C"]
        findings.sort(key=lambda f: (SEVERITIES.index(f["severity"]), f["file"], f["line"]))
        return {
            "target": params["target"],
            "type": kind,
            "vulnerabilities": [f for f in findings if f["category"] == "security"],
            "findings": findings,
            "summary": summarize(findings),
            "metrics": _metrics(blocks, maintainability),
        }


def summarize(findings: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {"total_issues": len(findings)}
    for sev in SEVERITIES:
        summary[f"{sev}_severity"] = sum(1 for f in findings if f["severity"] == sev)
    by_type: dict[str, int] = {}
    for f in findings:
        by_type[f["type"]] = by_type.get(f["type"], 0) + 1
    summary["by_type"] = by_type
    return summary


async def _bandit(target: WorkspaceTargets) -> list[dict[str, Any]]:
    data = await run_json("bandit", ["--ini", BANDIT_INI, "-r", "-f", "json", "-q"], target)
    root = target.root
    findings = []
    for r in (data or {}).get("results", []):
        findings.append({
            "file": _relative(root, r["filename"]),
            "line": r["line_number"],
            "severity": r["issue_severity"].lower(),
            "type": BANDIT_TYPES.get(r["test_id"], r["test_name"].replace("_", " ").title()),
            "description": r["issue_text"],
            "rule": r["test_id"],
            "confidence": r["issue_confidence"].lower(),
            "category": "security",
            "tool": "bandit",
            "code": (r.get("code") or "").strip()[:500],
        })
    return findings


def _ruff_severity(code: str) -> str:
    if code.startswith(("F", "B")) or code.startswith("E9"):
        return "medium"
    return "low"


async def _ruff(target: WorkspaceTargets, select: str, category: str) -> list[dict[str, Any]]:
    data = await run_json("ruff", ["check", "--isolated", "--no-cache", "--output-format",
                                   "json", "--select", select, "--exit-zero"], target)
    root = target.root
    findings = []
    for r in data or []:
        code = r.get("code") or "syntax"
        findings.append({
            "file": _relative(root, r["filename"]),
            "line": r["location"]["row"],
            "severity": "high" if code == "syntax" else _ruff_severity(code),
            "type": "Performance" if category == "performance" else _ruff_type(code),
            "description": r["message"],
            "rule": code,
            "category": category,
            "tool": "ruff",
        })
    return findings


def _ruff_type(code: str) -> str:
    if code.startswith("C9"):
        return "High Complexity"
    if code.startswith("F"):
        return "Code Error"
    if code.startswith("B"):
        return "Likely Bug"
    return "Style"


async def _radon_cc(target: WorkspaceTargets) -> list[dict[str, Any]]:
    data = await run_json("radon", ["cc", "-j"], target) or {}
    root = target.root
    blocks = []
    for file, items in data.items():
        if not isinstance(items, list):  # radon reports unparsable files as {"error": ...}
            continue
        for b in items:
            blocks.append({"file": _relative(root, file), "name": b["name"], "type": b["type"],
                           "line": b["lineno"], "complexity": b["complexity"],
                           "rank": b["rank"]})
    return blocks


async def _radon_mi(target: WorkspaceTargets) -> dict[str, dict[str, Any]]:
    data = await run_json("radon", ["mi", "-j"], target) or {}
    root = target.root
    return {_relative(root, f): {"mi": round(v["mi"], 1), "rank": v["rank"]}
            for f, v in data.items() if isinstance(v, dict) and "mi" in v}


def _complexity_finding(b: dict[str, Any], category: str) -> dict[str, Any]:
    return {
        "file": b["file"], "line": b["line"], "severity": COMPLEXITY_SEVERITY[b["rank"]],
        "type": "Complexity Hot Spot" if category == "performance" else "High Complexity",
        "description": f"{b['type']} {b['name']} has cyclomatic complexity {b['complexity']} "
                       f"(rank {b['rank']})",
        "rule": "radon-cc", "category": category, "tool": "radon",
    }


def _maintainability_finding(file: str, m: dict[str, Any]) -> dict[str, Any]:
    return {
        "file": file, "line": 1, "severity": "medium", "type": "Low Maintainability",
        "description": f"maintainability index {m['mi']} (rank {m['rank']})",
        "rule": "radon-mi", "category": "quality", "tool": "radon",
    }


def _metrics(blocks: list[dict[str, Any]], mi: dict[str, dict[str, Any]]) -> dict[str, Any]:
    files = {b["file"] for b in blocks} | set(mi)
    avg = round(sum(b["complexity"] for b in blocks) / len(blocks), 2) if blocks else 0.0
    worst = sorted(blocks, key=lambda b: -b["complexity"])[:10]
    return {"files_analyzed": len(files), "functions_analyzed": len(blocks),
            "average_complexity": avg, "most_complex": worst, "maintainability": mi}


def _relative(root: Path, filename: str) -> str:
    path = Path(filename)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return path.name
    return path.as_posix().removeprefix("./")


register(CodeAnalyzer())

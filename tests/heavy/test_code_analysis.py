"""code_analyzer and report_generator on a fixture project with known weaknesses."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.heavy.helpers import orchestrate, result_of, wait_done


async def execute(client, user, tool, parameters):
    resp = await client.post("/api/heavy/tools/execute", headers=user.headers,
                             json={"tool_name": tool, "parameters": parameters})
    assert resp.status_code == 200, resp.text
    return resp.json()


def located(findings, file, type_):
    return [f for f in findings if f["file"] == file and f["type"] == type_]


async def test_security_analysis_finds_the_planted_weaknesses(client, analysed_user):
    body = await execute(client, analysed_user, "code_analyzer",
                         {"target": "proj", "type": "security"})
    assert body["success"] is True
    assert body["execution_time"] > 0
    vulns = body["result"]["vulnerabilities"]
    sql = located(vulns, "proj/app/db.py", "SQL Injection")
    assert sql and sql[0]["line"] == 9 and sql[0]["severity"] == "medium"
    shell = located(vulns, "proj/app/ops.py", "Command Injection")
    assert shell and shell[0]["line"] == 10 and shell[0]["severity"] == "high"
    assert "shell=True" in shell[0]["description"]
    assert located(vulns, "proj/app/ops.py", "Unsafe YAML Load")[0]["line"] == 14
    password = located(vulns, "proj/app/db.py", "Hardcoded Password")
    assert password and password[0]["line"] == 5
    for f in vulns:
        assert {"file", "line", "severity", "type", "description"} <= set(f)
    summary = body["result"]["summary"]
    assert summary["total_issues"] == len(vulns)
    assert summary["high_severity"] == sum(f["severity"] == "high" for f in vulns) >= 1
    assert (summary["high_severity"] + summary["medium_severity"] + summary["low_severity"]
            == summary["total_issues"])


async def test_quality_analysis_reports_complexity_and_lint(client, analysed_user):
    body = await execute(client, analysed_user, "code_analyzer",
                         {"target": "proj/app", "type": "quality"})
    result = body["result"]
    complex_ = located(result["findings"], "proj/app/rules.py", "High Complexity")
    assert complex_ and complex_[0]["line"] == 4 and "price" in complex_[0]["description"]
    unused = [f for f in result["findings"] if f.get("rule") == "F401"]
    assert unused and unused[0]["file"] == "proj/app/ops.py"
    assert result["vulnerabilities"] == []
    assert result["metrics"]["most_complex"][0]["name"] == "price"
    assert "proj/app/rules.py" in result["metrics"]["maintainability"]


async def test_performance_analysis_uses_perf_rules_and_hot_spots(client, analysed_user):
    result = (await execute(client, analysed_user, "code_analyzer",
                            {"target": "proj", "type": "performance"}))["result"]
    perf = [f for f in result["findings"] if f.get("rule") == "PERF401"]
    assert perf and perf[0]["file"] == "proj/app/report.py" and perf[0]["line"] == 8
    assert located(result["findings"], "proj/app/rules.py", "Complexity Hot Spot")


async def test_target_outside_workspace_fails_cleanly(client, analysed_user):
    body = await execute(client, analysed_user, "code_analyzer",
                         {"target": "../", "type": "security"})
    assert body["success"] is False
    assert body["result"] is None
    missing = await execute(client, analysed_user, "code_analyzer",
                            {"target": "nope", "type": "security"})
    assert missing["success"] is False and "nope" in missing["error"]


async def test_analysis_then_pdf_report_contains_the_findings(client, analysed_user):
    started = await orchestrate(client, analysed_user, {
        "workflow": [
            {"step": 1, "tool": "code_analyzer", "parameters": {"target": "proj", "type": "all"}},
            {"step": 2, "tool": "report_generator",
             "parameters": {"format": "pdf", "include_recommendations": True}},
        ],
        "config": {"timeout": 120, "parallel": False}})
    body = await wait_done(client, analysed_user, started["orchestration_id"], within=120)
    assert body["status"] == "completed", body
    report = result_of(body, 2)
    assert report["findings_reported"] == result_of(body, 1)["summary"]["total_issues"]
    assert body["artifacts"] == [report["report"]]
    artifact = body["artifacts"][0]
    assert artifact["format"] == "pdf" and artifact["path"].endswith(".pdf")
    resp = await client.get(artifact["download_url"], headers=analysed_user.headers)
    assert resp.status_code == 200
    assert resp.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.content)).pages)
    text = " ".join(text.split())
    for expected in ("SQL Injection", "Command Injection", "Unsafe YAML Load",
                     "Hardcoded Password", "High Complexity", "proj/app/db.py:9",
                     "proj/app/ops.py:10", "Recommendations", "parameterised queries"):
        assert expected in text, expected
    other = await client.get(artifact["download_url"], headers=(await _stranger(client)).headers)
    assert other.status_code == 404


async def _stranger(client):
    from tests.support import register

    return await register(client)


async def test_html_and_json_reports_from_given_findings(client, analysed_user):
    findings = [{"file": "a.py", "line": 3, "severity": "high", "type": "SQL Injection",
                 "description": "<script>alert(1)</script> in query"}]
    html = await execute(client, analysed_user, "report_generator",
                         {"format": "html", "findings": findings, "output": "out/r.html"})
    assert html["success"], html
    page = await client.get(html["result"]["report"]["download_url"],
                            headers=analysed_user.headers)
    assert "SQL Injection" in page.text and "a.py:3" in page.text
    assert "<script>alert" not in page.text  # escaped
    as_json = await execute(client, analysed_user, "report_generator",
                            {"format": "json", "findings": findings,
                             "include_recommendations": False})
    data = (await client.get(as_json["result"]["report"]["download_url"],
                             headers=analysed_user.headers)).json()
    assert data["summary"]["high_severity"] == 1
    assert data["findings"][0]["type"] == "SQL Injection"
    assert data["recommendations"] == []


async def test_report_without_findings_fails(client, analysed_user):
    body = await execute(client, analysed_user, "report_generator", {"format": "pdf"})
    assert body["success"] is False
    assert "nothing to report" in body["error"]

"""The published schema is valid OpenAPI and describes every route: its body, its success
response and every error status it can answer with, and the limits the server enforces."""

from __future__ import annotations

import asyncio

import pytest
from openapi_spec_validator import validate

ERROR_REF = "#/components/schemas/ErrorResponse"
METHODS = {"get", "put", "post", "delete", "patch"}
# Routes only an administrator may call (403 for everyone else).
ADMIN_ROUTES = {
    ("/api/users", "get"), ("/api/users", "post"), ("/api/users/{user_id}", "put"),
    ("/api/users/{user_id}", "delete"), ("/api/endpoints/sleep", "post"),
    ("/api/endpoints/sleep/{model_type}", "post"), ("/api/monitoring/logs/requests", "get"),
    ("/api/monitoring/logs/errors", "get"),
    ("/api/monitoring/alerts/{alert_id}/acknowledge", "post"),
    ("/api/monitoring/incidents/{incident_id}", "patch"), ("/api/stats", "get"),
}
# Status codes a route's own logic produces besides the ones its shape implies.
SPECIFIC = {
    ("/api/auth/register", "post"): {"409"},
    ("/api/users", "post"): {"409"},
    ("/api/users/{user_id}", "put"): {"409"},
    ("/api/tasks/{task_id}/start", "post"): {"409"},
    ("/api/tasks/{task_id}/stop", "post"): {"409"},
    ("/api/heavy/orchestrations/{orchestration_id}/stop", "post"): {"409"},
    ("/api/endpoints/wake/{model_type}", "post"): {"409"},
    ("/api/mcp/tools/{client_name}", "get"): {"503"},
    ("/api/mcp/execute", "post"): {"503"},
    ("/api/chat", "post"): {"503"},
    ("/api/workspace/files", "post"): {"411"},
    ("/api/workspace/import", "post"): {"411"},
    ("/health/ready", "get"): {"503"},
}
# Signed-in routes that read the token themselves rather than through the sign-in dependency.
OWN_TOKEN = {("/api/auth/refresh", "post"), ("/api/auth/validate", "get"),
             ("/api/observability/events/stream", "get")}
UNLIMITED = ("/health", "/metrics", "/docs", "/openapi.json")


@pytest.fixture
async def schema(client):
    resp = await client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def expected_errors(path: str, method: str, op: dict) -> set[str]:
    params = op.get("parameters", [])
    codes = {"500"} | SPECIFIC.get((path, method), set())
    if params or "requestBody" in op:
        codes.add("400")
    if any(p["in"] == "path" for p in params):
        codes.add("404")
    if "requestBody" in op:
        codes.add("413")
    if op.get("security") or (path, method) in OWN_TOKEN:
        codes.add("401")
    if (path, method) in ADMIN_ROUTES:
        codes.add("403")
    if path.startswith("/api/"):
        codes.add("429")
    return codes


async def test_schema_is_valid_openapi(schema):
    validate(schema)  # raises on any violation of the OpenAPI specification


async def test_every_route_documents_its_responses(schema):
    ops = list(operations(schema))
    assert len(ops) >= 60
    for path, method, op in ops:
        responses = op["responses"]
        where = (path, method)
        assert "422" not in responses, where
        ok = [code for code in responses if code.startswith("2")]
        assert len(ok) == 1, where
        success = responses[ok[0]]
        if ok[0] == "204":
            assert "content" not in success, where
        else:
            assert success.get("content"), where
            for media in success["content"].values():
                assert media.get("schema"), where
        missing = expected_errors(path, method, op) - set(responses)
        assert not missing, (where, missing)
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                body = response["content"]["application/json"]["schema"]
                assert "$ref" in body, (where, code)
                if (where, code) not in {(("/api/auth/validate", "get"), "401"),
                                         (("/health/ready", "get"), "503")}:
                    assert body["$ref"] == ERROR_REF, (where, code)
    assert "ErrorResponse" in schema["components"]["schemas"]
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()


async def test_every_body_is_described(schema):
    components = schema["components"]["schemas"]
    for path, method, op in operations(schema):
        if method in ("post", "put", "patch") and "requestBody" in op:
            content = op["requestBody"]["content"]
            (media, body), = content.items()
            assert media in ("application/json", "multipart/form-data"), (path, method)
            ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
            assert components[ref]["properties"], (path, method)
    for path in ("/api/workspace/files", "/api/workspace/import"):
        form = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        body = components[form["schema"]["$ref"].rsplit("/", 1)[-1]]
        assert body["required"] == ["file"]
        assert body["properties"]["file"]["type"] == "string"
        assert body["properties"]["path"]["anyOf"][0]["maxLength"] == 1024


async def test_schema_states_the_limits_the_server_enforces(schema):
    components = schema["components"]["schemas"]
    model = components["TaskCreate"]["properties"]["model"]["anyOf"][0]
    assert {"gpt-oss-120b", "gpt-oss-20b"} <= set(model["enum"])
    assert components["ChatRequest"]["properties"]["model"]["anyOf"][0] == model
    for body, field in (("RegisterRequest", "password"),
                        ("ChangePasswordRequest", "new_password")):
        rules = components[body]["properties"][field]
        assert (rules["minLength"], rules["maxLength"]) == (8, 128)
        assert "A-Za-z" in rules["pattern"] and "0-9" in rules["pattern"]
    assert components["UserCreate"]["properties"]["username"]["pattern"]
    assert components["UserUpdate"]["properties"]["username"]["anyOf"][0]["pattern"]
    steps = components["TaskCreate"]["properties"]["max_steps"]["anyOf"][0]
    assert (steps["type"], steps["minimum"], steps["maximum"]) == ("integer", 1, 200)
    listing = {p["name"]: p["schema"] for p in schema["paths"]["/api/tasks"]["get"]["parameters"]}
    assert (listing["limit"]["minimum"], listing["limit"]["maximum"]) == (1, 100)
    assert listing["offset"]["minimum"] == 0
    download = schema["paths"]["/api/workspace/files/{path}"]["get"]["parameters"][0]
    assert download["schema"]["maxLength"] == 1024


@pytest.mark.parametrize("field, value", [
    ("max_steps", False), ("max_steps", "5"), ("token_budget", True), ("auto_start", 1),
    ("auto_start", "true"), ("timeout_seconds", True), ("title", 5), ("model", "GPT-5"),
])
async def test_bodies_refuse_what_the_schema_does_not_allow(client, user, field, value):
    resp = await client.post("/api/tasks", headers=user.headers,
                             json={"title": "t", "description": "d", field: value})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    assert field in resp.json()["details"]["validation_errors"][0]


async def test_bodies_accept_what_the_schema_allows(client, user):
    # JSON has one number type: 3.0 is the integer 3, as JSON Schema counts it.
    resp = await client.post("/api/tasks", headers=user.headers, json={
        "title": "t", "description": "d", "max_steps": 3.0, "timeout_seconds": 60,
        "model": "20b", "auto_start": False})
    assert resp.status_code == 201, resp.text
    task = (await client.get(f"/api/tasks/{resp.json()['task_id']}",
                             headers=user.headers)).json()
    assert task["model"] == "gpt-oss-20b"


async def test_upload_through_the_documented_form(client, user):
    resp = await client.post("/api/workspace/files", headers=user.headers,
                             files={"file": ("notes.txt", b"hello")}, data={"path": "docs/"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["path"] == "docs/notes.txt"
    resp = await client.post("/api/workspace/files", headers=user.headers,
                             files={"file": ("a.txt", b"x")}, data={"path": "p" * 1025})
    assert resp.status_code == 400
    assert "path" in resp.json()["details"]["validation_errors"][0]


async def test_uploads_check_the_caller_before_reading_the_body(server):
    # A stranger declares a huge body and sends none of it: the answer comes at once, so
    # nothing was waited for, read or spooled.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /api/workspace/import HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: multipart/form-data; boundary=b\r\n"
                 b"Content-Length: 1000000000\r\n\r\n")
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"401", status_line


async def test_docs_page_served(client):
    resp = await client.get("/docs")
    assert resp.status_code == 200 and "openapi.json" in resp.text

"""The published schema describes every foundation route, its bodies and its errors."""

from __future__ import annotations

FOUNDATION = {
    ("/health", "get"), ("/health/ready", "get"), ("/health/live", "get"),
    ("/api/auth/register", "post"), ("/api/auth/login", "post"), ("/api/auth/refresh", "post"),
    ("/api/auth/me", "get"), ("/api/auth/me", "put"), ("/api/auth/change-password", "post"),
    ("/api/auth/validate", "get"), ("/api/auth/logout", "post"),
    ("/api/users", "get"), ("/api/users", "post"), ("/api/users/{user_id}", "get"),
    ("/api/users/{user_id}", "put"), ("/api/users/{user_id}", "delete"),
}


async def test_openapi_describes_foundation_routes(client):
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path, method in FOUNDATION:
        op = paths[path][method]
        responses = op["responses"]
        assert "422" not in responses, (path, method)
        assert "500" in responses
        if op.get("requestBody"):
            assert "$ref" in str(op["requestBody"]["content"]["application/json"]["schema"])
            assert "400" in responses
        ok = [code for code in responses if code.startswith("2")]
        assert ok, (path, method)
        if path.startswith("/api/") and path not in ("/api/auth/register", "/api/auth/login"):
            assert "401" in responses, (path, method)
    assert "ErrorResponse" in schema["components"]["schemas"]
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()
    assert "403" in paths["/api/users"]["get"]["responses"]
    assert "409" in paths["/api/auth/register"]["post"]["responses"]


async def test_docs_page_served(client):
    resp = await client.get("/docs")
    assert resp.status_code == 200 and "openapi.json" in resp.text

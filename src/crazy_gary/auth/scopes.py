"""What an API key may call: the one table of every route's scope.

A JWT (a person signed in) may call every route its role allows; an API key only the routes
whose scope it carries. Each route is decided here, keyed on its method and path template
(as the router declares it), so a new route adds one line. A route missing from the table
is refused to keys (fail closed); `tests/auth/test_scope_table.py` fails when any route of
the app is missing, so none is silently unreachable or open. (The web console's pages take
no credential and are left out.)
"""

from __future__ import annotations

from typing import Final

SCOPES: Final = (
    "tasks:read", "tasks:write", "chat", "tools:read", "tools:execute", "files:read",
    "files:write", "endpoints:read", "endpoints:manage", "monitoring:read", "heavy",
    "schedules", "webhooks", "admin",
)
ADMIN: Final = "admin"

# Markers beside the scopes:
OPEN: Final = "open"  # no sign-in dependency: the route takes no credential or checks its own
SIGNED_IN: Final = "signed-in"  # any valid key (it only says who the key speaks for)
NO_KEYS: Final = "no-keys"  # a person signed in only: account and key management

# The scope socket.io connections need (the same events as the SSE stream).
EVENTS_SCOPE: Final = "tasks:read"

_READ_WRITE = ("GET", "POST", "PUT", "PATCH", "DELETE")

# (method, path template) → scope or marker. Templates as the routers declare them.
ROUTE_SCOPES: Final[dict[tuple[str, str], str]] = {
    # health, docs, the console, metrics for scrapers: no sign-in
    ("GET", "/health"): OPEN,
    ("GET", "/health/ready"): OPEN,
    ("GET", "/health/live"): OPEN,
    ("GET", "/metrics"): OPEN,
    # accounts
    ("POST", "/api/auth/register"): OPEN,
    ("POST", "/api/auth/login"): OPEN,
    ("POST", "/api/auth/refresh"): OPEN,  # spends a refresh token; a key is none
    ("GET", "/api/auth/validate"): OPEN,  # checks the credential it is given
    ("GET", "/api/auth/me"): SIGNED_IN,
    ("PUT", "/api/auth/me"): NO_KEYS,
    ("POST", "/api/auth/change-password"): NO_KEYS,
    ("POST", "/api/auth/logout"): NO_KEYS,
    ("GET", "/api/auth/api-keys"): NO_KEYS,
    ("POST", "/api/auth/api-keys"): NO_KEYS,
    ("DELETE", "/api/auth/api-keys/{key_id}"): NO_KEYS,
    ("GET", "/api/auth/me/quota"): "monitoring:read",
    # users
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("GET", "/api/users/{user_id}"): SIGNED_IN,  # yourself; anyone with the admin scope
    ("PUT", "/api/users/{user_id}"): NO_KEYS,  # passwords, emails, roles
    ("DELETE", "/api/users/{user_id}"): NO_KEYS,  # deletes an account
    ("PUT", "/api/users/{user_id}/quota"): ADMIN,
    ("GET", "/api/users/{user_id}/quota"): ADMIN,
    # tasks
    ("POST", "/api/tasks"): "tasks:write",
    ("GET", "/api/tasks"): "tasks:read",
    ("GET", "/api/tasks/{task_id}"): "tasks:read",
    ("POST", "/api/tasks/{task_id}/start"): "tasks:write",
    ("POST", "/api/tasks/{task_id}/stop"): "tasks:write",
    ("POST", "/api/tasks/{task_id}/retry"): "tasks:write",
    ("GET", "/api/stats"): "tasks:read",
    ("GET", "/api/approvals*"): "tasks:read",
    ("POST", "/api/approvals*"): "tasks:write",
    # chat
    ("POST", "/api/chat"): "chat",
    ("POST", "/api/chat/stream"): "chat",
    # heavy mode
    ("POST", "/api/heavy/orchestrate"): "heavy",
    ("GET", "/api/heavy/progress"): "heavy",
    ("POST", "/api/heavy/orchestrations/{orchestration_id}/stop"): "heavy",
    ("GET", "/api/heavy/tools"): "heavy",
    ("POST", "/api/heavy/tools/execute"): "heavy",
    # tools
    ("GET", "/api/mcp/tools"): "tools:read",
    ("GET", "/api/mcp/tools/search"): "tools:read",
    ("GET", "/api/mcp/tools/{client_name}"): "tools:read",
    ("GET", "/api/mcp/status"): "tools:read",
    ("POST", "/api/mcp/execute"): "tools:execute",
    # workspace files
    ("GET", "/api/workspace/files"): "files:read",
    ("GET", "/api/workspace/files/{path:path}"): "files:read",
    ("POST", "/api/workspace/files"): "files:write",
    ("POST", "/api/workspace/import"): "files:write",
    ("DELETE", "/api/workspace/files/{path:path}"): "files:write",
    # model endpoints
    ("GET", "/api/endpoints/status"): "endpoints:read",
    ("GET", "/api/endpoints/status/{model_type}"): "endpoints:read",
    ("POST", "/api/endpoints/wake"): "endpoints:manage",
    ("POST", "/api/endpoints/wake/{model_type}"): "endpoints:manage",
    ("POST", "/api/endpoints/sleep"): "endpoints:manage",  # and an admin's key with `admin`
    ("POST", "/api/endpoints/sleep/{model_type}"): "endpoints:manage",
    # monitoring and observability
    ("GET", "/api/monitoring/health"): "monitoring:read",
    ("GET", "/api/monitoring/health/detailed"): "monitoring:read",
    ("GET", "/api/monitoring/health/dashboard"): "monitoring:read",
    ("GET", "/api/monitoring/metrics"): "monitoring:read",
    ("GET", "/api/monitoring/alerts"): "monitoring:read",
    ("GET", "/api/monitoring/incidents"): "monitoring:read",
    ("GET", "/api/monitoring/incidents/{incident_id}"): "monitoring:read",
    ("GET", "/api/monitoring/logs/requests"): ADMIN,
    ("GET", "/api/monitoring/logs/errors"): ADMIN,
    ("POST", "/api/monitoring/alerts/{alert_id}/acknowledge"): ADMIN,
    ("POST", "/api/monitoring/incidents"): ADMIN,
    ("PATCH", "/api/monitoring/incidents/{incident_id}"): ADMIN,
    ("GET", "/api/monitoring/cluster"): ADMIN,
    ("GET", "/api/observability/metrics"): "monitoring:read",
    ("GET", "/api/observability/traces/active"): "monitoring:read",
    ("GET", "/api/observability/events/stream"): EVENTS_SCOPE,
    ("GET", "/api/usage"): "monitoring:read",
    # automation
    **{(method, "/api/schedules*"): "schedules" for method in _READ_WRITE},
    **{(method, "/api/webhooks*"): "webhooks" for method in _READ_WRITE},
}

# The wildcard entries (`/prefix*`: the prefix itself and everything under it), longest first.
_PREFIXES: Final = sorted(
    ((method, template[:-1].rstrip("/"), scope)
     for (method, template), scope in ROUTE_SCOPES.items() if template.endswith("*")),
    key=lambda entry: -len(entry[1]),
)


def scope_of(method: str, template: str) -> str | None:
    """The scope (or marker) of a route, by its method and path template; None when the
    table does not name it (keys are then refused)."""
    found = ROUTE_SCOPES.get((method, template))
    if found is not None:
        return found
    for entry_method, prefix, scope in _PREFIXES:
        if entry_method == method and (template == prefix or template.startswith(prefix + "/")):
            return scope
    return None


"""Every route of the app has its API-key scope in the one table (`auth.scopes`), so a new
route can be neither silently unreachable for keys nor silently open to them."""

from __future__ import annotations

from crazy_gary.api_schema import _dependants, api_routes
from crazy_gary.app import create_app
from crazy_gary.auth.dependencies import SignedIn
from crazy_gary.auth.scopes import (
    NO_KEYS,
    OPEN,
    ROUTE_SCOPES,
    SCOPES,
    SIGNED_IN,
    scope_of,
)

# Routes that read a credential themselves (not through `SignedIn`) and check the table.
OWN_CHECK = {("GET", "/api/observability/events/stream")}


def _routes():
    for route in api_routes(create_app()):
        route = getattr(route, "original_route", route)
        if route.name.startswith("console:"):  # the web console's pages: no credential
            continue
        for method in sorted(route.methods):
            yield method, route.path, route


def test_every_route_is_in_the_table():
    missing = [(method, path) for method, path, _ in _routes() if scope_of(method, path) is None]
    assert not missing, f"add these routes to auth/scopes.py ROUTE_SCOPES: {missing}"


def test_open_routes_take_no_sign_in_and_signed_in_routes_are_not_open():
    for method, path, route in _routes():
        signs_in = any(isinstance(d.call, SignedIn) for d in _dependants(route.dependant))
        scope = scope_of(method, path)
        if signs_in or (method, path) in OWN_CHECK:
            assert scope != OPEN, (method, path)
        else:
            assert scope == OPEN, (method, path, scope)


def test_table_names_only_known_scopes():
    assert set(ROUTE_SCOPES.values()) <= set(SCOPES) | {OPEN, SIGNED_IN, NO_KEYS}


def test_routes_being_added_elsewhere_already_have_their_scope():
    expected = {
        ("GET", "/api/approvals"): "tasks:read",
        ("GET", "/api/approvals/{approval_id}"): "tasks:read",
        ("POST", "/api/approvals/{approval_id}/approve"): "tasks:write",
        ("POST", "/api/tasks/{task_id}/retry"): "tasks:write",
        ("POST", "/api/schedules"): "schedules",
        ("PATCH", "/api/schedules/{schedule_id}"): "schedules",
        ("GET", "/api/schedules/{schedule_id}/runs"): "schedules",
        ("POST", "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): "webhooks",
        ("DELETE", "/api/webhooks/{webhook_id}"): "webhooks",
        ("GET", "/api/usage"): "monitoring:read",
        ("GET", "/api/auth/me/quota"): "monitoring:read",
        ("PUT", "/api/users/{user_id}/quota"): "admin",
        ("GET", "/api/monitoring/cluster"): "admin",
    }
    for (method, path), scope in expected.items():
        assert scope_of(method, path) == scope, (method, path)
    # a wildcard covers its own subtree only
    assert scope_of("GET", "/api/approvalsx") is None
    assert scope_of("DELETE", "/api/approvals/{approval_id}") is None

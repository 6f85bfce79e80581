"""Schema-driven fuzzing (schemathesis) of every route, signed in: no input yields a 5xx, an
undocumented status, a response that breaks its schema or an undeclared content type, and
no request the schema forbids is accepted (strict types, stated limits)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import subprocess_env

CHECKS = ("not_a_server_error,status_code_conformance,response_schema_conformance,"
          "content_type_conformance")
STRICT = f"{CHECKS},negative_data_rejection"
# The live event stream never ends on its own: a request to it cannot complete.
ENDLESS = r"^/api/observability/events/stream$"
# What only an administrator may do or sees differently, minus what would disturb the
# shared server's other tests (deleting or editing random users, putting the model
# endpoints to sleep).
ADMIN_ONLY = r"^/api/(users|monitoring/(logs|alerts|incidents)|stats|observability/traces)"
# Multipart fields are all text on the wire: a "boolean" file part or an "object" path is
# just text there, so the server rightly accepts what the generator calls schema-violating.
MULTIPART = r"^/api/workspace/(files|import)$"
# Each accepted chat request waits for a whole agent turn: fewer examples keep the run short.
AGENT_TURNS = r"^/api/chat"


def schemathesis(server_url: str, token: str, checks: str, *extra: str,
                 exclude: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        pytest.skip("schemathesis is not installed")
    args = [st, "run", f"{server_url}/openapi.json",
            "--checks", checks,
            "--exclude-path-regex", "|".join((ENDLESS, *exclude)),
            "--phases", "examples,coverage,fuzzing",
            "--header", f"Authorization: Bearer {token}",
            "--request-timeout", "30",
            "--warnings", "off",
            "--workers", "1",  # hypothesis is not thread-safe (lambda descriptions)
            *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=400,
                          env=subprocess_env({"NO_COLOR": "1"}))


def assert_clean(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    # schemathesis' own runtime errors also exit 0; only a clean run counts.
    assert "No issues found" in output, output[-8000:]


pytestmark = pytest.mark.timeout(420)


async def test_every_route_as_a_user(server, user):
    # Signing out would end the session the rest of the run uses.
    assert_clean(schemathesis(server.url, user.token, STRICT, "--max-examples", "8",
                              "--exclude-path", "/api/auth/logout",
                              exclude=(MULTIPART, AGENT_TURNS)))
    assert_clean(schemathesis(server.url, user.token, STRICT, "--max-examples", "3",
                              "--include-path-regex", AGENT_TURNS))
    assert_clean(schemathesis(server.url, user.token, CHECKS, "--max-examples", "8",
                              "--include-path-regex", MULTIPART))


async def test_admin_routes_as_an_admin(server, admin):
    # (Excluding methods keeps the path filter; `--include-method` would widen the run to
    # every route of those methods.)
    assert_clean(schemathesis(server.url, admin.token, STRICT, "--max-examples", "10",
                              "--include-path-regex", ADMIN_ONLY,
                              "--exclude-method", "DELETE", "--exclude-method", "PUT"))

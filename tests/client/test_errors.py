"""Error classes by code and status, Retry-After parsing, and a 503 retried then raised."""

from __future__ import annotations

from email.utils import formatdate
from time import time

import pytest

from crazy_gary.client import (
    ApiError,
    AsyncClient,
    NotFoundError,
    RetryPolicy,
    ServerError,
    ServiceUnavailable,
)
from crazy_gary.client.core import retry_after
from crazy_gary.client.errors import error_for
from tests.tasks.helpers import marker, tag


def test_error_class_by_code_then_by_status():
    assert type(error_for(404, {"code": "TASK_NOT_FOUND", "error": "gone"}, "r1")) is \
        NotFoundError
    unknown = error_for(404, {"code": "SOMETHING_NEW", "error": "new"}, "r2")
    assert isinstance(unknown, NotFoundError) and unknown.code == "SOMETHING_NEW"
    bare = error_for(502, "<html>bad gateway</html>", "r3")
    assert isinstance(bare, ServerError) and bare.code == "HTTP_502" and bare.request_id == "r3"
    odd = error_for(418, {"code": "TEAPOT", "error": "short and stout"}, None)
    assert type(odd) is ApiError and str(odd) == "short and stout (TEAPOT, HTTP 418)"


def test_retry_after_seconds_and_http_date():
    assert retry_after("3") == 3.0 and retry_after("0.5") == 0.5
    assert 8 <= retry_after(formatdate(time() + 10, usegmt=True)) <= 10
    assert retry_after(None) is None and retry_after("soon") is None


async def test_503_is_retried_then_raised_with_its_code(server, user, model_standin):
    script = tag("cl-503")
    model_standin.script(script, [{"error": 503, "message": "overloaded"}])
    async with AsyncClient(server.url, retry=RetryPolicy(attempts=2, backoff=0.1)) as gary:
        await gary.auth.login(user.email, user.password)
        before = (await gary.tasks.list(status="failed")).total
        with pytest.raises(ServiceUnavailable) as unavailable:
            await gary.chat.send(f"Hello {marker(script)}")
        assert unavailable.value.code == "ENDPOINT_UNAVAILABLE"
        assert unavailable.value.request_id
        # the turn was tried twice: two failed chat turns were recorded
        assert (await gary.tasks.list(status="failed")).total == before + 2


def test_importing_the_client_loads_no_server_machinery():
    import subprocess
    import sys

    from tests.support import subprocess_env

    probe = ("import sys, crazy_gary.client; print(sorted(m for m in ('fastapi', 'sqlalchemy', "
             "'dbos', 'mcp', 'crazy_gary.db', 'crazy_gary.config', 'crazy_gary.app') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=subprocess_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"

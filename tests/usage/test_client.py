"""The Python client's usage area: reports, quotas, and 429 QUOTA_EXCEEDED raised at once
(never retried) as QuotaExceeded."""

from __future__ import annotations

import pytest

from crazy_gary.client import PermissionDenied, QuotaExceeded, RateLimited
from tests.client.helpers import signed_in
from tests.tasks.helpers import marker, tag


async def test_client_usage_and_quota(server, register_user, admin, model_standin):
    member = await register_user()
    gary, boss = await signed_in(server, member), await signed_in(server, admin)
    try:
        script = tag("clientusage")
        model_standin.script(script, [
            {"content": "Hi.", "usage": {"prompt_tokens": 40, "completion_tokens": 2}}])
        await gary.chat.send(f"hello {marker(script)}")
        report = await gary.usage.report(group_by="model")
        assert report.user_id == member.id
        assert report.totals.total_tokens == 42 and report.totals.tasks == 1
        assert [g.key for g in report.groups] == ["gpt-oss-120b"]
        with pytest.raises(PermissionDenied):
            await gary.usage.report(everyone=True)
        assert (await boss.usage.report(user_id=member.id)).totals == report.totals

        quota = await boss.usage.set_quota(member.id, monthly_tokens=40)
        assert quota.monthly_tokens == 40 and quota.exceeded == ["monthly_tokens"]
        assert (await gary.usage.my_quota()).used.tokens == 42
        with pytest.raises(QuotaExceeded) as refused:
            await gary.tasks.create("more", "more work")
        assert isinstance(refused.value, RateLimited)
        assert refused.value.details["quota"] == "monthly_tokens"
        assert refused.value.details["used"] == 42
        assert (await boss.usage.quota(member.id)).monthly_tokens == 40
    finally:
        await gary.aclose()
        await boss.aclose()

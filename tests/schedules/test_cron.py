"""Cron and time-zone arithmetic of next_run_at (unit level), read as the engine's
scheduler reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crazy_gary.schedules import cron


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_nine_oclock_in_paris_across_the_spring_dst_change():
    # Paris moves from UTC+1 to UTC+2 on 29 March 2026 at 02:00 local time.
    assert cron.next_tick("0 9 * * *", "Europe/Paris", utc(2026, 3, 28, 6)) == utc(2026, 3, 28, 8)
    assert cron.next_tick("0 9 * * *", "Europe/Paris", utc(2026, 3, 28, 9)) == utc(2026, 3, 29, 7)
    assert cron.next_tick("0 9 * * *", "Europe/Paris", utc(2026, 3, 29, 7)) == utc(2026, 3, 30, 7)


def test_nine_oclock_in_paris_across_the_autumn_dst_change():
    # back to UTC+1 on 25 October 2026 at 03:00 local time
    assert cron.next_tick("0 9 * * *", "Europe/Paris", utc(2026, 10, 24, 8)) == utc(2026, 10, 25, 8)
    assert cron.next_tick("0 9 * * *", "Europe/Paris", utc(2026, 10, 25, 8)) == utc(2026, 10, 26, 8)


def test_weekdays_and_other_zones():
    # Friday 2026-12-04 10:00 UTC: the next weekday 09:00 in New York (UTC-5) is Monday
    assert cron.next_tick("0 9 * * MON-FRI", "America/New_York", utc(2026, 12, 4, 15)) == \
        utc(2026, 12, 7, 14)
    assert cron.next_tick("30 8 * * *", "Asia/Kolkata", utc(2026, 1, 1)) == utc(2026, 1, 1, 3)
    assert cron.next_tick("0 9 * * *", "UTC", utc(2026, 1, 1, 9)) == utc(2026, 1, 2, 9)


def test_six_fields_put_seconds_first():
    assert cron.next_tick("*/15 * * * * *", "UTC", utc(2026, 1, 1, 0, 0, 16)) == \
        utc(2026, 1, 1, 0, 0, 30)
    assert cron.next_tick("5 0 9 * * *", "Europe/Paris", utc(2026, 6, 1)) == \
        utc(2026, 6, 1, 7, 0, 5)


def test_last_tick_is_in_the_schedules_zone_as_the_engine_names_it():
    tick = cron.last_tick("0 9 * * *", "Europe/Paris", utc(2026, 3, 30, 12))
    assert tick.isoformat() == "2026-03-30T09:00:00+02:00"


@pytest.mark.parametrize("expression", ["", "* * * *", "1 2 3 4 5 6 7", "61 * * * *",
                                        "@daily", "0 0 31 2 *", "x y z w v"])
def test_refused_expressions(expression):
    with pytest.raises(ValueError):
        cron.check_cron(expression)


@pytest.mark.parametrize("name", ["", "Europe/Nowhere", "../UTC", " UTC", "x" * 65])
def test_refused_zones(name):
    with pytest.raises(ValueError):
        cron.zone(name)

"""Timestamps read back from SQLite are aware UTC datetimes, whatever form the text has."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import sqlite

from crazy_gary.db import UTCDateTime

read = UTCDateTime().result_processor(sqlite.dialect(), None)


@pytest.mark.parametrize(("stored", "expected"), [
    ("2026-11-26 05:40:00.123456", datetime(2026, 11, 26, 5, 40, 0, 123456, tzinfo=UTC)),
    ("2026-11-26 05:40:00", datetime(2026, 11, 26, 5, 40, tzinfo=UTC)),
    ("2026-11-26T07:40:00+02:00", datetime(2026, 11, 26, 5, 40, tzinfo=UTC)),
    ("2026-11-26 05:40:00.123+00:00", datetime(2026, 11, 26, 5, 40, 0, 123000, tzinfo=UTC)),
])
def test_sqlite_text_becomes_aware_utc(stored, expected):
    parsed = read(stored)
    assert parsed == expected and parsed.utcoffset().total_seconds() == 0


def test_null_stays_null():
    assert read(None) is None

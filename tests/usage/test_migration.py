"""Migration 0017 copies the steps recorded before it into the ledger and the counters."""

from __future__ import annotations

import sqlite3


def test_upgrade_bills_earlier_steps(tmp_path):
    from alembic import command

    from crazy_gary.migrations import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0010_event_outbox")
    stamp = "2026-11-30 23:59:00"
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO users (id, email, username, name, role, token_version, "
                   "created_at, updated_at) VALUES (1, 'u@example.com', 'u', 'n', 'user', 0, "
                   "?, ?)", (stamp, stamp))
        db.execute("INSERT INTO tasks (id, user_id, title, description, model, priority, "
                   "status, progress, options, origin, prompt_tokens, completion_tokens, "
                   "total_tokens, cost_usd, created_at, updated_at) VALUES ('task_1', 1, 't', "
                   "'d', 'gpt-oss-120b', 'medium', 'completed', 100, '{}', 'api', 30, 7, 37, "
                   "0.5, ?, ?)", (stamp, stamp))
        steps = [(0, "plan", None, "gpt-oss-120b", 10, 2, 0.2),
                 (1, "model", None, "gpt-oss-120b", 20, 5, 0.3),
                 (2, "tool", "workspace.write_file", None, 0, 0, 0.0)]
        for seq, kind, name, model, prompt, completion, cost in steps:
            db.execute("INSERT INTO task_steps (task_id, seq, kind, name, outcome, model, "
                       "prompt_tokens, completion_tokens, cost_usd, latency_ms, created_at) "
                       "VALUES ('task_1', ?, ?, ?, 'ok', ?, ?, ?, ?, 1.0, ?)",
                       (seq, kind, name, model, prompt, completion, cost, stamp))
    upgrade(url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        rows = db.execute("SELECT user_id, task_id, kind, model, tool, prompt_tokens, "
                          "completion_tokens, day FROM usage_records ORDER BY id").fetchall()
        assert rows == [
            (1, "task_1", "model", "gpt-oss-120b", None, 10, 2, "2026-11-30"),
            (1, "task_1", "model", "gpt-oss-120b", None, 20, 5, "2026-11-30"),
            (1, "task_1", "tool", None, "workspace.write_file", 0, 0, "2026-11-30")]
        counters = db.execute("SELECT user_id, period, tokens, round(cost_usd, 6), "
                              "tokens_warned FROM usage_counters").fetchall()
        assert counters == [(1, "2026-11", 37, 0.5, 0)]

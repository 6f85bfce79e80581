"""Run the `crazy-gary` client commands as subprocesses against the shared server."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import subprocess_env


@dataclass
class Result:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict]:
        import json

        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class Cli:
    """`crazy-gary ...` with its own config directory (so its own stored sign-in)."""

    def __init__(self, url: str, home: Path) -> None:
        self.url = url
        self.home = home
        self.env: dict[str, str] = {"XDG_CONFIG_HOME": str(home), "CRAZY_GARY_URL": url,
                                    "COLUMNS": "120", "NO_COLOR": "1"}

    @property
    def credentials(self) -> Path:
        return self.home / "crazy-gary" / "credentials.json"

    def __call__(self, *args: str, input: str | None = None, timeout: float = 90,
                 env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "crazy_gary", *args], input=input, capture_output=True,
            text=True, timeout=timeout, start_new_session=True,  # no terminal: prompts read stdin
            env=subprocess_env({**self.env, **(env or {})}))
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def spawn(self, *args: str) -> subprocess.Popen:
        """`crazy-gary ...` running in the background (text pipes, no stdin, no terminal)."""
        return subprocess.Popen(
            [sys.executable, "-m", "crazy_gary", *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
            start_new_session=True, env=subprocess_env(self.env))

    def login(self, user) -> Result:
        done = self("login", "--url", self.url, input=f"{user.email}\n{user.password}\n")
        assert done.code == 0, done.err
        return done


@pytest.fixture
def cli(server, tmp_path) -> Cli:
    return Cli(server.url, tmp_path / "config")


@pytest.fixture
def signed_in_cli(cli, user) -> Cli:
    cli.login(user)
    return cli

"""Where the CLI keeps its sign-in: the server URL and a refresh token, mode 0600.

`$XDG_CONFIG_HOME/crazy-gary/credentials.json` (default `~/.config/crazy-gary/`).
CRAZY_GARY_URL overrides the stored URL; CRAZY_GARY_TOKEN (an access token) is used as is,
instead of the stored refresh token, for scripts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crazy-gary"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


@dataclass
class Credentials:
    url: str
    refresh_token: str | None = None
    email: str | None = None


def load() -> Credentials | None:
    path = credentials_path()
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Credentials(url=data["url"], refresh_token=data.get("refresh_token"),
                       email=data.get("email"))


def save(creds: Credentials) -> Path:
    """Write the file readable by its owner only (created 0600, never wider)."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"url": creds.url, "refresh_token": creds.refresh_token,
                   "email": creds.email}, out)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def remove() -> bool:
    path = credentials_path()
    if path.exists():
        path.unlink()
        return True
    return False


def server_url(override: str | None = None) -> str:
    stored = load()
    return (override or os.environ.get("CRAZY_GARY_URL")
            or (stored.url if stored else None) or DEFAULT_URL).rstrip("/")

"""Schema migrations (Alembic), applied on start and by `crazy-gary migrate`."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

from crazy_gary.config import to_sync_url

HERE = Path(__file__).parent


def alembic_config(async_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", sync_driver_url(async_url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def sync_driver_url(async_url: str) -> str:
    url = to_sync_url(async_url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def upgrade(async_url: str) -> None:
    """Bring the schema to the newest revision of every branch."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(alembic_config(async_url), "heads")

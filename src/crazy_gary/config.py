"""Settings: the only place the environment is read."""

from __future__ import annotations

import os
import secrets
import socket
import uuid
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MODEL_KEYS = ("120b", "20b")


_PROCESS_EXECUTOR_ID = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


def unique_executor_id() -> str:
    """The host name and a random suffix drawn once per process: two processes never share
    an id, and every `Settings` of one process agrees on it."""
    return _PROCESS_EXECUTOR_ID

class Settings(BaseSettings):
    """Configuration contract of DESIGN.md, read from the environment and a .env file."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=Path("./data"), alias="CRAZY_GARY_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    # Connections a process may open to a PostgreSQL database (SQLite ignores them): the
    # application pool and its overflow, and the durable engine's pool on its own database.
    # Processes times their sum must fit the server's max_connections (docs/scaling.md).
    database_pool_size: int = Field(default=20, ge=1, alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(default=20, ge=0, alias="DATABASE_MAX_OVERFLOW")
    system_database_pool_size: int = Field(default=20, ge=1,
                                           alias="SYSTEM_DATABASE_POOL_SIZE")
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_namespace: str = Field(default="crazy_gary", alias="REDIS_NAMESPACE")
    jwt_secret_key_value: str | None = Field(default=None, alias="JWT_SECRET_KEY")
    environment: str = Field(default="production", alias="ENVIRONMENT")
    railway_env: str | None = Field(default=None, alias="RAILWAY_ENVIRONMENT")

    huggingface_api_key: str | None = Field(default=None, alias="HUGGINGFACE_API_KEY")
    model_api_key_value: str | None = Field(default=None, alias="MODEL_API_KEY")
    model_120b_base_url: str | None = Field(default=None, alias="MODEL_120B_BASE_URL")
    model_20b_base_url: str | None = Field(default=None, alias="MODEL_20B_BASE_URL")
    model_120b_name: str = Field(default="openai/gpt-oss-120b", alias="MODEL_120B_NAME")
    model_20b_name: str = Field(default="openai/gpt-oss-20b", alias="MODEL_20B_NAME")
    model_120b_hf_endpoint: str | None = Field(default=None, alias="MODEL_120B_HF_ENDPOINT")
    model_20b_hf_endpoint: str | None = Field(default=None, alias="MODEL_20B_HF_ENDPOINT")
    model_120b_command: str | None = Field(default=None, alias="MODEL_120B_COMMAND")
    model_20b_command: str | None = Field(default=None, alias="MODEL_20B_COMMAND")
    hf_endpoints_api_url: str = Field(
        default="https://api.endpoints.huggingface.cloud/v2", alias="HF_ENDPOINTS_API_URL"
    )
    endpoint_auto_sleep_seconds: int = Field(default=900, alias="ENDPOINT_AUTO_SLEEP_SECONDS")
    endpoint_wake_timeout_seconds: float = Field(
        default=600.0, alias="ENDPOINT_WAKE_TIMEOUT_SECONDS"
    )
    model_call_timeout_seconds: float = Field(default=120.0, alias="MODEL_CALL_TIMEOUT_SECONDS")
    model_max_retries: int = Field(default=3, alias="MODEL_MAX_RETRIES")
    model_retry_backoff_seconds: float = Field(default=0.5, alias="MODEL_RETRY_BACKOFF_SECONDS")
    endpoint_stop_grace_seconds: float = Field(default=10.0, alias="ENDPOINT_STOP_GRACE_SECONDS")
    endpoint_poll_seconds: float = Field(default=2.0, alias="ENDPOINT_POLL_SECONDS")
    endpoint_auto_sleep_check: str = Field(default="*/15 * * * * *",
                                           alias="ENDPOINT_AUTO_SLEEP_CHECK_CRON")

    mcp_config: Path | None = Field(default=None, alias="MCP_CONFIG")

    @field_validator("mcp_config", mode="before")
    @classmethod
    def _no_mcp_config_when_empty(cls, value: Any) -> Any:
        """MCP_CONFIG= (empty) means no MCP servers, not the current directory."""
        return None if isinstance(value, str) and not value.strip() else value
    mcp_call_timeout_seconds: float = Field(default=60.0, alias="MCP_CALL_TIMEOUT_SECONDS")
    mcp_connect_timeout_seconds: float = Field(default=30.0, alias="MCP_CONNECT_TIMEOUT_SECONDS")
    mcp_backoff_initial_seconds: float = Field(default=0.5, alias="MCP_BACKOFF_INITIAL_SECONDS")
    mcp_backoff_max_seconds: float = Field(default=30.0, alias="MCP_BACKOFF_MAX_SECONDS")
    mcp_ping_interval_seconds: float = Field(default=15.0, alias="MCP_PING_INTERVAL_SECONDS")
    workspace_max_upload_bytes: int = Field(default=50 * 1024 * 1024,
                                            alias="WORKSPACE_MAX_UPLOAD_BYTES")
    workspace_max_archive_bytes: int = Field(default=50 * 1024 * 1024,
                                             alias="WORKSPACE_MAX_ARCHIVE_BYTES")
    workspace_max_archive_files: int = Field(default=5000, alias="WORKSPACE_MAX_ARCHIVE_FILES")
    workspace_max_extracted_bytes: int = Field(default=200 * 1024 * 1024,
                                               alias="WORKSPACE_MAX_EXTRACTED_BYTES")
    workspace_max_read_bytes: int = Field(default=1024 * 1024, alias="WORKSPACE_MAX_READ_BYTES")
    workspace_quota_bytes: int = Field(default=500 * 1024 * 1024, ge=0,
                                       alias="WORKSPACE_QUOTA_BYTES")
    heavy_max_parameters_bytes: int = Field(default=1024 * 1024, ge=1024,
                                            alias="HEAVY_MAX_PARAMETERS_BYTES")
    heavy_max_result_bytes: int = Field(default=1024 * 1024, ge=1024,
                                        alias="HEAVY_MAX_RESULT_BYTES")

    rate_limits_enabled: bool = Field(default=True, alias="RATE_LIMITS_ENABLED")
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated addresses
    # or networks, `*` = any); empty = none, the client address is the TCP peer.
    forwarded_allow_ips: str = Field(
        default="", validation_alias=AliasChoices("FORWARDED_ALLOW_IPS", "TRUSTED_PROXIES"))
    rate_limit_auth: str = Field(default="10/hour", alias="RATE_LIMIT_AUTH")
    rate_limit_general: str = Field(default="1000/hour", alias="RATE_LIMIT_GENERAL")
    rate_limit_endpoints: str = Field(default="100/hour", alias="RATE_LIMIT_ENDPOINTS")
    rate_limit_monitoring: str = Field(default="500/hour", alias="RATE_LIMIT_MONITORING")

    access_token_ttl_seconds: int = Field(default=3600, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_seconds: int = Field(default=30 * 86400, alias="REFRESH_TOKEN_TTL_SECONDS")
    max_body_bytes: int = Field(default=1024 * 1024, alias="MAX_BODY_BYTES")
    auth_user_cache_seconds: float = Field(default=5.0, alias="AUTH_USER_CACHE_SECONDS")

    # Unique per process unless fixed: a fixed id lets a restarted process resume its own
    # work (docs/scaling.md); a process coming back under a new name is covered by failover.
    executor_id: str = Field(default_factory=unique_executor_id,
                             alias="CRAZY_GARY_EXECUTOR_ID")
    # A process silent this long is declared dead and one survivor takes over its work.
    executor_dead_after_seconds: float = Field(default=30.0, gt=0,
                                               alias="EXECUTOR_DEAD_AFTER_SECONDS")
    # On SIGTERM/Ctrl-C: how long model and tool calls in flight may finish before exit.
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, alias="SHUTDOWN_GRACE_SECONDS")
    app_version: str = Field(default="1.0.0", alias="CRAZY_GARY_APP_VERSION")
    # How often each durable queue (tasks, chat, heavy) looks for work: the delay before a
    # queued task starts, against the engine's polling cost on an idle server (each poll is
    # a few queries plus statement objects to collect; see docs/tasks.md).
    queue_polling_interval_seconds: float = Field(default=0.25, gt=0,
                                                  alias="QUEUE_POLLING_INTERVAL")
    # How often each process's durable scheduler re-reads the schedules (a new, changed or
    # deleted schedule takes effect on every process within this time).
    schedules_poll_seconds: float = Field(default=5.0, gt=0, alias="SCHEDULES_POLL_SECONDS")
    task_default_model: str = Field(default="gpt-oss-120b", alias="TASK_DEFAULT_MODEL")
    task_max_steps: int = Field(default=20, alias="TASK_MAX_STEPS")
    task_token_budget: int = Field(default=200_000, alias="TASK_TOKEN_BUDGET")
    task_timeout_seconds: float = Field(default=1800.0, alias="TASK_TIMEOUT_SECONDS")
    task_per_user_concurrency: int = Field(default=3, alias="TASK_PER_USER_CONCURRENCY")
    # The most tasks (and, apart, chat turns) one process runs at once. Agents are I/O-bound:
    # a task waiting on a model holds no thread, only its coroutine and a little memory, so
    # the ceiling is sized for waiting work, not for cores (docs/scaling.md, "Measured").
    # 0 on `serve`: an API-only process that takes no queued work (workers run it).
    task_worker_concurrency: int = Field(default=1000, ge=0, alias="TASK_WORKER_CONCURRENCY")
    task_tool_result_chars: int = Field(default=8000, alias="TASK_TOOL_RESULT_CHARS")
    task_tool_timeout_seconds: float = Field(default=120.0, alias="TASK_TOOL_TIMEOUT_SECONDS")
    task_tool_search_threshold: int = Field(default=24, alias="TASK_TOOL_SEARCH_THRESHOLD")
    task_tools_startup_wait_seconds: float = Field(default=15.0,
                                                   alias="TASK_TOOLS_STARTUP_WAIT_SECONDS")
    chat_timeout_seconds: float = Field(default=120.0, alias="CHAT_TIMEOUT_SECONDS")
    # Tool approvals (docs/approvals.md): the action for a tool no policy rule names, how
    # long a pending approval waits, and how many identical calls in a row look like a loop.
    tool_approval_default: Literal["allow", "ask", "deny"] = Field(
        default="allow", alias="TOOL_APPROVAL_DEFAULT")
    approval_timeout_seconds: float = Field(default=3600.0, gt=0,
                                            alias="APPROVAL_TIMEOUT_SECONDS")
    loop_repeat_limit: int = Field(default=3, ge=2, alias="LOOP_REPEAT_LIMIT")
    # USD per million tokens, e.g. {"gpt-oss-120b": {"input": 0.15, "output": 0.6}}
    model_prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "gpt-oss-120b": {"input": 0.15, "output": 0.60},
            "gpt-oss-20b": {"input": 0.05, "output": 0.20},
        },
        alias="MODEL_PRICES",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None, alias="OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    # Read requests traced per second per process beyond which they are sampled out
    # (everything else is always traced); 0 traces every read.
    trace_reads_per_second: float = Field(default=100.0, ge=0, alias="TRACE_READS_PER_SECOND")

    # Live events and monitoring
    sse_heartbeat_seconds: float = Field(default=15.0, alias="SSE_HEARTBEAT_SECONDS")
    # How often each process fans out events another process committed but died before
    # fanning out (older than this many seconds and not marked published).
    events_relay_seconds: float = Field(default=5.0, gt=0, alias="EVENTS_RELAY_SECONDS")
    # How often each process re-checks the credential of its open SSE streams and sockets.
    stream_reauth_seconds: float = Field(default=2.0, gt=0, alias="STREAM_REAUTH_SECONDS")
    # Browser origins allowed besides the service's own (comma-separated): HTTP CORS and
    # socket.io. Empty: same origin only.
    cors_origins: str = Field(default="", alias="CORS_ORIGINS")
    event_retention_days: int = Field(default=7, alias="EVENT_RETENTION_DAYS")
    monitoring_retention_days: int = Field(default=7, alias="MONITORING_RETENTION_DAYS")
    monitoring_max_log_rows: int = Field(default=100_000, alias="MONITORING_MAX_LOG_ROWS")
    alert_evaluation_seconds: int = Field(default=30, alias="ALERT_EVALUATION_SECONDS")
    alert_cpu_percent: float = Field(default=80.0, alias="ALERT_CPU_PERCENT")
    alert_memory_percent: float = Field(default=90.0, alias="ALERT_MEMORY_PERCENT")
    alert_disk_percent: float = Field(default=90.0, alias="ALERT_DISK_PERCENT")
    alert_error_rate: float = Field(default=0.05, alias="ALERT_ERROR_RATE")
    alert_p95_latency_ms: float = Field(default=2000.0, alias="ALERT_P95_LATENCY_MS")

    # Webhooks: private/loopback targets are refused unless allowed (tests, closed networks);
    # the delays (seconds, comma-separated) between a failed attempt and the next; when they
    # run out the delivery failed and, with no success since it began, the webhook is disabled.
    webhook_allow_private_networks: bool = Field(default=False,
                                                 alias="WEBHOOK_ALLOW_PRIVATE_NETWORKS")
    webhook_retry_schedule: str = Field(default="5,300,1800,7200,18000,36000,36000",
                                        pattern=r"^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$",
                                        alias="WEBHOOK_RETRY_SCHEDULE")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, alias="WEBHOOK_TIMEOUT_SECONDS")

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def webhook_retry_delays(self) -> list[float]:
        return [float(part) for part in self.webhook_retry_schedule.split(",")]

    @property
    def sqlalchemy_url(self) -> str:
        """Async SQLAlchemy URL of the application database."""
        url = self.database_url or f"sqlite:///{self.resolved_data_dir / 'crazy_gary.db'}"
        return to_async_url(url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def dbos_system_database_url(self) -> str:
        """Where the durable engine keeps its own tables (its own file when embedded)."""
        if self.is_sqlite:
            return f"sqlite:///{self.resolved_data_dir / 'dbos_system.db'}"
        sync = to_sync_url(self.sqlalchemy_url)
        base, _, name = sync.rpartition("/")
        name, _, query = name.partition("?")
        return f"{base}/{name}_dbos_sys" + (f"?{query}" if query else "")

    @cached_property
    def jwt_secret_key(self) -> str:
        """The HS256 key: from the environment, else generated once into the data dir (0600)."""
        if self.jwt_secret_key_value:
            if len(self.jwt_secret_key_value.encode()) < 32:
                raise ValueError("JWT_SECRET_KEY must be at least 32 bytes")
            return self.jwt_secret_key_value
        path = self.resolved_data_dir / "jwt_secret.key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        os.chmod(path, 0o600)
        return path.read_text().strip()

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def model_api_key(self) -> str | None:
        return self.model_api_key_value or self.huggingface_api_key

    @property
    def workspaces_dir(self) -> Path:
        path = self.resolved_data_dir / "workspaces"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def model_setting(self, key: str, field: str) -> Any:
        """Per-model setting, e.g. model_setting("120b", "base_url")."""
        return getattr(self, f"model_{key}_{field}")

    def missing_env_vars(self) -> list[str]:
        """Variables that must be set before the service can do model work."""
        missing = []
        if not self.huggingface_api_key and not self.model_api_key_value:
            missing.append("HUGGINGFACE_API_KEY")
        return missing


def to_async_url(url: str) -> str:
    if url.startswith("sqlite:///") or url.startswith("sqlite://"):
        return url.replace("sqlite://", "sqlite+aiosqlite://", 1)
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def to_sync_url(url: str) -> str:
    return (
        url.replace("sqlite+aiosqlite://", "sqlite://", 1)
        .replace("postgresql+asyncpg://", "postgresql://", 1)
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()

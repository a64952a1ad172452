"""Configuration from environment variables and `.env` (pydantic-settings).

Every layer reads its settings from here; nothing else looks at os.environ for
FinkraftAI configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .clock import DEFAULT_TIMEZONE, valid_timezone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["dev", "prod"] = Field("dev", validation_alias="FINKRAFT_ENV")
    data_dir: Path = Field(Path("./data"), validation_alias="FINKRAFT_DATA_DIR")
    app_database_url: str | None = Field(None, validation_alias="APP_DATABASE_URL")
    business_database_url: str | None = Field(None, validation_alias="BUSINESS_DATABASE_URL")
    # the semantic data model of the business database: a bundled name (demo, reference) or a YAML path
    data_model: str = Field("demo", validation_alias="FINKRAFT_DATA_MODEL")
    google_api_key: str | None = Field(None, validation_alias=AliasChoices("GOOGLE_API_KEY", "GEMINI_API_KEY"))
    model: str | None = Field(None, validation_alias="FINKRAFT_MODEL")
    model_base_url: str | None = Field(None, validation_alias="FINKRAFT_MODEL_BASE_URL")
    model_timeout_s: float = Field(20.0, validation_alias="FINKRAFT_MODEL_TIMEOUT")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    rate_limit: str = Field("120/minute", validation_alias="FINKRAFT_RATE_LIMIT")
    # the browser session cookie (POST /auth/session): ends after this long without a request, and at the latest this long after sign-in
    session_idle_hours: float = Field(8.0, gt=0, validation_alias="FINKRAFT_SESSION_IDLE_HOURS")
    session_max_days: float = Field(7.0, gt=0, validation_alias="FINKRAFT_SESSION_MAX_DAYS")
    # wrong tokens per client address; past it, 429 (with Retry-After) for any token not just used successfully
    auth_failure_limit: str = Field("20/minute", validation_alias="FINKRAFT_AUTH_FAILURE_LIMIT")
    max_body_bytes: int = Field(256 * 1024, validation_alias="FINKRAFT_MAX_BODY_BYTES")
    # a request body that stops arriving for this long (a Content-Length larger than the body) is a 408
    body_timeout_s: float = Field(30.0, gt=0, validation_alias="FINKRAFT_BODY_TIMEOUT")
    # /agent/batch: at most this many inputs per request; each one counts against the rate limit
    max_batch_inputs: int = Field(20, ge=1, validation_alias="FINKRAFT_MAX_BATCH_INPUTS")
    # retention (`finkraft prune`): traces and memory turns older than this many days go; 0 keeps them all
    trace_retention_days: int = Field(90, ge=0, validation_alias="FINKRAFT_TRACE_RETENTION_DAYS")
    memory_retention_days: int = Field(365, ge=0, validation_alias="FINKRAFT_MEMORY_RETENTION_DAYS")
    semantic_memory: bool = Field(True, validation_alias="FINKRAFT_SEMANTIC_MEMORY")
    embedding_backend: Literal["onnx", "torch"] = Field("onnx", validation_alias="FINKRAFT_EMBEDDING_BACKEND")
    embedding_dir: Path | None = Field(None, validation_alias="FINKRAFT_EMBEDDING_DIR")
    # texts whose vectors a process keeps (1.5 KiB each): a text seen again is not encoded again; 0 keeps none
    embedding_cache: int = Field(4096, ge=0, validation_alias="FINKRAFT_EMBEDDING_CACHE")
    # each user's newest turns a process keeps in its semantic index (~1.6 KiB each; 0 keeps all): memory
    # stays bounded however long people talk; older turns are still found by their exact identifiers
    memory_index_cap: int = Field(20_000, ge=0, validation_alias="FINKRAFT_MEMORY_INDEX_CAP")
    seed: int = Field(20261124, validation_alias="FINKRAFT_SEED")
    # the business's time zone (IANA name): "today", "last month", "this financial year" turn over at its
    # midnight, whatever the server's own time zone (business_data/clock.py)
    timezone: str = Field(DEFAULT_TIMEZONE, validation_alias="FINKRAFT_TIMEZONE")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str) -> str:
        return valid_timezone(v)

    # anomaly detectors (tools/detectors): what counts as unusual. New records are those of the last
    # `detect_lookback_days`; a failure-rate spike and a shortfall must also be significant for their counts
    detect_lookback_days: int = Field(30, ge=1, le=366, validation_alias="FINKRAFT_DETECT_LOOKBACK_DAYS")
    spike_z: float = Field(3.0, gt=0, validation_alias="FINKRAFT_SPIKE_Z")  # Wilson interval width (3.0 ~ 99.7%)
    spike_min_invoices: int = Field(8, ge=1, validation_alias="FINKRAFT_SPIKE_MIN_INVOICES")
    spike_min_failed: int = Field(4, ge=1, validation_alias="FINKRAFT_SPIKE_MIN_FAILED")
    spike_min_baseline: int = Field(20, ge=1, validation_alias="FINKRAFT_SPIKE_MIN_BASELINE")
    duplicate_tolerance: float = Field(0.005, ge=0, lt=1, validation_alias="FINKRAFT_DUPLICATE_TOLERANCE")
    # a pair below this amount is not worth a look (cab rides of ₹6,500 coincide by chance every month)
    duplicate_min_amount: float = Field(10_000, ge=0, validation_alias="FINKRAFT_DUPLICATE_MIN_AMOUNT")
    # near (not equal) amounts count only for a vendor expected to make fewer chance near-pairs than this
    duplicate_max_chance: float = Field(0.3, ge=0, validation_alias="FINKRAFT_DUPLICATE_MAX_CHANCE")
    duplicate_days: int = Field(7, ge=0, validation_alias="FINKRAFT_DUPLICATE_DAYS")
    overdue_growth_ratio: float = Field(2.0, gt=1, validation_alias="FINKRAFT_OVERDUE_GROWTH_RATIO")
    overdue_min_increase: float = Field(300_000, ge=0, validation_alias="FINKRAFT_OVERDUE_MIN_INCREASE")
    unusual_z: float = Field(5.0, gt=0, validation_alias="FINKRAFT_UNUSUAL_Z")  # robust z of log amounts
    unusual_min_history: int = Field(20, ge=3, validation_alias="FINKRAFT_UNUSUAL_MIN_HISTORY")
    unusual_history_days: int = Field(180, ge=30, validation_alias="FINKRAFT_UNUSUAL_HISTORY_DAYS")
    shortfall_drop: float = Field(0.4, gt=0, lt=1, validation_alias="FINKRAFT_SHORTFALL_DROP")
    shortfall_z: float = Field(3.0, gt=0, validation_alias="FINKRAFT_SHORTFALL_Z")
    # the server runs every detector on this schedule (minutes; 0 = never: use `finkraft watch` from cron)
    watch_every_minutes: int = Field(0, ge=0, validation_alias="FINKRAFT_WATCH_EVERY_MINUTES")
    # glibc malloc arenas per server process (server/malloc.py); 0 leaves glibc's 8 per core; MALLOC_ARENA_MAX wins
    malloc_arenas: int = Field(2, ge=0, validation_alias="FINKRAFT_MALLOC_ARENAS")

    @property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def app_url(self) -> str:
        return self.app_database_url or f"sqlite:///{self.resolved_data_dir / 'app.sqlite'}"

    @property
    def business_url(self) -> str:
        return self.business_database_url or f"sqlite:///{self.resolved_data_dir / 'business.sqlite'}"

    @property
    def exports_dir(self) -> Path:
        path = self.resolved_data_dir / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_embedding_dir(self) -> Path:
        """Where the embedding model's ONNX export is kept (made once, on first use)."""
        return self.embedding_dir.expanduser().resolve() if self.embedding_dir else self.resolved_data_dir / "models"

    @property
    def checkpoint_path(self) -> Path:
        return self.resolved_data_dir / "checkpoints.sqlite"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

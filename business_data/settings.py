"""Configuration from environment variables and `.env` (pydantic-settings).

Every layer reads its settings from here; nothing else looks at os.environ for
FinkraftAI configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    max_body_bytes: int = Field(256 * 1024, validation_alias="FINKRAFT_MAX_BODY_BYTES")
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
    seed: int = Field(20261124, validation_alias="FINKRAFT_SEED")
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

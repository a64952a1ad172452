"""What the graph's nodes need from the world: databases, memory, exports dir, the clock.

Built from settings by default (Studio, notebooks, the server) and replaceable in tests.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine

from business_data.db import make_engine
from business_data.seed import is_seeded, seed
from business_data.settings import Settings, get_settings
from memory.store import MemoryStore
from tools.base import ToolContext
from tools.rbac import Identity, ensure_demo_users, load_identity


@dataclass
class Services:
    settings: Settings
    business: Engine
    app: Engine
    memory: MemoryStore
    exports_dir: Path
    today: Callable[[], date] = date.today
    _ready: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Services":
        settings = settings or get_settings()
        app = make_engine(settings.app_url)
        return cls(settings=settings, business=make_engine(settings.business_url), app=app,
                   memory=MemoryStore(app, semantic=settings.semantic_memory), exports_dir=settings.exports_dir)

    def prepare(self) -> "Services":
        """Create schemas, demo users and (on an empty business DB) the demo data. Idempotent."""
        if self._ready:
            return self
        with self._lock:
            if not self._ready:
                ensure_demo_users(self.app)
                self.memory.init_schema()
                if not is_seeded(self.business):
                    seed(self.business, seed=self.settings.seed)
                self._ready = True
        return self

    def identity(self, user_id: str) -> Identity:
        return load_identity(self.app, user_id)

    def tool_context(self, identity: Identity) -> ToolContext:
        return ToolContext(identity=identity, business=self.business, app=self.app,
                           exports_dir=self.exports_dir, today=self.today())


_default: Services | None = None
_default_lock = threading.Lock()


def default_services() -> Services:
    global _default
    with _default_lock:
        if _default is None:
            _default = Services.from_settings()
    return _default.prepare()


def set_default_services(services: Services | None) -> None:
    global _default
    with _default_lock:
        _default = services

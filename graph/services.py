"""What the graph's nodes need from the world: databases, memory, exports dir, the clock.

Built from settings by default (Studio, notebooks, the server) and replaceable in tests.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial
from datetime import date
from pathlib import Path
from collections.abc import Callable

from sqlalchemy.engine import Engine

from business_data import clock, startup
from business_data.datamodel import DataModel, get_data_model
from business_data.db import make_engine
from business_data.settings import Settings, get_settings
from memory.store import MemoryStore
from tools.base import ToolContext
from tools.rbac import Identity, load_identity


IDENTITY_TTL_S = 1.0


@dataclass
class Services:
    settings: Settings
    business: Engine
    app: Engine
    memory: MemoryStore
    exports_dir: Path
    today: Callable[[], date] = clock.today  # the business date (FINKRAFT_TIMEZONE), not the server's
    model: DataModel | None = None  # the semantic data model (FINKRAFT_DATA_MODEL), validated at start
    _ready: bool = field(default=False, repr=False)
    _identities: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Services:
        settings = settings or get_settings()
        app = make_engine(settings.app_url)
        return cls(
            settings=settings,
            business=make_engine(settings.business_url),
            app=app,
            memory=MemoryStore(app, semantic=settings.semantic_memory),
            exports_dir=settings.exports_dir,
            model=get_data_model(settings.data_model),
            today=partial(clock.today, settings.timezone),
        )

    @property
    def embedded(self) -> bool:
        """Both databases are embedded SQLite files: their calls are short, in-process and mostly under
        the GIL, so the graph runs its database nodes on the event loop (graph/builder.py) instead of
        paying a worker-thread hop for each; on PostgreSQL they stay off the loop."""
        return self.app.dialect.name == "sqlite" and self.business.dialect.name == "sqlite"

    def prepare(self) -> Services:
        """Start-up (business_data/startup.py): migrations, demo users, dev tokens in dev, demo data
        on an empty business database. Once per Services; safe when several processes start at once."""
        if self._ready:
            return self
        with self._lock:
            if not self._ready:
                startup.prepare(self.settings, self.app, self.business, model=self.model)
                self._ready = True
        return self

    def identity(self, user_id: str) -> Identity:
        """Role and workspace from the application database. A turn asks several times, so the
        answer is kept for IDENTITY_TTL_S: a role change reaches every process within a second."""
        now = time.monotonic()
        hit = self._identities.get(user_id)
        if hit and hit[1] > now:
            return hit[0]
        identity = load_identity(self.app, user_id)
        self._identities[user_id] = (identity, now + IDENTITY_TTL_S)
        return identity

    def forget_identity(self, user_id: str) -> None:
        self._identities.pop(user_id, None)

    def tool_context(self, identity: Identity) -> ToolContext:
        return ToolContext(
            identity=identity,
            business=self.business,
            app=self.app,
            exports_dir=self.exports_dir,
            today=self.today(),
            model=self.model,
        )


_default: Services | None = None
_default_lock = threading.Lock()


def default_services() -> Services:
    global _default
    with _default_lock:
        if _default is None:
            _default = Services.from_settings()
    return _default.prepare()

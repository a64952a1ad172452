"""Issue 24: the server caps glibc's malloc arenas (server/malloc.py), so the free memory that per-thread
arenas keep does not pile up under a mixed load. The soak itself is benchmarks/soak.py."""

from __future__ import annotations

import platform

import pytest

from business_data.settings import Settings
from server import app as app_module
from server import malloc


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(malloc, "_done", False)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)


def test_two_arenas_by_default_and_create_app_asks_for_them(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(app_module, "limit_arenas", asked.append)
    app_module.create_app(Settings(_env_file=None))
    assert asked == [2]


def test_the_setting_is_read(monkeypatch):
    monkeypatch.setenv("FINKRAFT_MALLOC_ARENAS", "0")
    assert Settings(_env_file=None).malloc_arenas == 0


@pytest.mark.usefixtures("fresh")
def test_zero_or_the_environment_leave_glibc_alone(monkeypatch):
    assert malloc.limit_arenas(0) is False
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # glibc read it at start: it wins
    assert malloc.limit_arenas(2) is False


@pytest.mark.usefixtures("fresh")
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is glibc's")
def test_set_once_per_process_on_glibc():
    assert malloc.limit_arenas(2) is True
    assert malloc.limit_arenas(2) is False

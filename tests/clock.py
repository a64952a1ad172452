"""The tests' clock: how a test (or the whole run) says what "now" is, for itself and every process it starts.

The rules (see also tests/README.md):

- A figure from the seeded data is computed from the data at run time (SQL in the test or tests/helpers),
  never written into the test, because the demo data is dated relative to today. The one exception is
  what the seed guarantees on every date: IndiSky Airlines' 7 failed invoices last month, GSTIN missing.
- A test that needs a particular moment (a calendar edge, "yesterday" across midnight) freezes it with
  `travel()` (time-machine). Processes it starts follow: conftest puts tests/clock_site first on
  PYTHONPATH, and its sitecustomize applies the offset in FINKRAFT_TEST_CLOCK_OFFSET at start-up.
- The whole run can be moved: `FINKRAFT_TEST_NOW=2027-03-31T23:30:00+05:30 .venv/bin/pytest -m "not slow"`
  starts every test (and xdist worker, server, Studio, notebook kernel) at that moment, ticking.

The clock ticks (`tick=True`): timeouts, sleeps and durations behave as usual, and a test that needs a
still clock says so. `time.monotonic` is never moved.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import time_machine

OFFSET_ENV = "FINKRAFT_TEST_CLOCK_OFFSET"
NOW_ENV = "FINKRAFT_TEST_NOW"
SITE_DIR = Path(__file__).resolve().parent / "clock_site"


def parse_moment(text: str) -> datetime:
    """An ISO moment with its offset ("2027-01-01T00:30:00+05:30", "...Z"); a naive one is an error."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{NOW_ENV}={text!r}: give the moment with its offset, e.g. 2027-01-01T00:30:00+05:30")
    return moment


def put_site_on_path() -> None:
    """Processes started from here import tests/clock_site/sitecustomize.py (idempotent)."""
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(SITE_DIR) not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), *parts])


def start_run_clock() -> None:
    """At session start (and in each xdist worker): follow FINKRAFT_TEST_NOW, or an offset a parent set."""
    put_site_on_path()
    if os.environ.get(OFFSET_ENV):  # a worker or child of a moved run: same offset, already in the env
        if not time_machine.escape_hatch.is_travelling():  # (sitecustomize may have started it already)
            time_machine.travel(time.time() + float(os.environ[OFFSET_ENV]), tick=True).start()
    elif os.environ.get(NOW_ENV):
        moment = parse_moment(os.environ[NOW_ENV])
        os.environ[OFFSET_ENV] = repr(moment.timestamp() - time.time())
        time_machine.travel(moment, tick=True).start()


@contextmanager
def travel(moment: datetime | str, *, tick: bool = True) -> Iterator[time_machine.Coordinates]:
    """Run the block at `moment` (aware datetime or ISO text with an offset), in this process and in
    every process the block starts."""
    if isinstance(moment, str):
        moment = parse_moment(moment)
    if moment.tzinfo is None:
        raise ValueError("travel() needs an aware moment: which time zone's 00:30?")
    before = os.environ.get(OFFSET_ENV)
    os.environ[OFFSET_ENV] = repr(moment.timestamp() - _real_time())
    try:
        with time_machine.travel(moment, tick=tick) as coordinates:
            yield coordinates
    finally:
        if before is None:
            os.environ.pop(OFFSET_ENV, None)
        else:
            os.environ[OFFSET_ENV] = before


def _real_time() -> float:
    """The machine's clock, even inside a travel (time-machine leaves time.monotonic and the escape hatch)."""
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()

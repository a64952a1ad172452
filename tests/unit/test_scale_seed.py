"""`finkraft seed --scale N`: the demo data grown in bulk, the sample scenario intact, figures consistent."""

from __future__ import annotations

from business_data import clock

import pytest

import subprocess
import sys

from sqlalchemy import text


from business_data.db import make_engine
from business_data.scale import seed_scale
from tools.registry import run_tool

from .. import reference_db
from ..conftest import ROOT


def test_scale_adds_invoices_in_bulk_and_keeps_the_sample_scenario(services):
    with services.business.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM invoices")).scalar()
    out = seed_scale(services.business, before + 5000, log=lambda *_: None)
    assert out == {"invoices": before + 5000, "added": 5000, "seconds": out["seconds"]}
    with services.business.connect() as conn:
        n, distinct, per_ws = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT workspace_id || invoice_number), sum(CASE WHEN workspace_id = 'acme' THEN 1 ELSE 0 END) "
                "FROM invoices"
            )
        ).one()
        statuses = {s for (s,) in conn.execute(text("SELECT DISTINCT status FROM invoices"))}
        bad_totals = conn.execute(
            text("SELECT count(*) FROM invoices WHERE abs(total_amount - amount - tax_amount) > 0.011")
        ).scalar()
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM invoices i LEFT JOIN vendors v ON v.id = i.vendor_id "
                "WHERE v.id IS NULL OR v.workspace_id <> i.workspace_id"
            )
        ).scalar()
    assert n == distinct == before + 5000 and per_ws > n * 0.8
    assert statuses == {"processed", "failed", "pending", "cancelled"} and bad_totals == 0 and orphans == 0
    maya = services.tool_context(services.identity("maya"))
    res = run_tool("filter_data", {"vendor": "IndiSky", "status": "failed", "period": "last_month"}, maya)
    assert res.data["filtered_records"] == 7  # the sample scenario holds at any scale
    assert seed_scale(services.business, before + 5000, log=lambda *_: None)["added"] == 0  # idempotent


@pytest.mark.slow  # subprocesses: in `make test`, not the quick loop
def test_scale_is_refused_on_a_customers_database(tmp_path):
    def seed(url: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "seed", "--scale", "10"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "PATH": "/usr/bin:/bin",
                "FINKRAFT_DATA_DIR": str(tmp_path / "data"),
                "FINKRAFT_DATA_MODEL": "reference",
                "BUSINESS_DATABASE_URL": url,
            },
        )

    r = seed(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert r.returncode == 2 and "error: The business database does not fit the data model 'reference'" in r.stderr
    assert "Traceback" not in r.stderr
    url = f"sqlite:///{tmp_path / 'customer.sqlite'}"
    reference_db.build(url, clock.today())
    r = seed(url)
    assert r.returncode == 2 and "--scale grows the demo data" in r.stderr
    with make_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM invoices")).scalar() < 2000  # nothing added

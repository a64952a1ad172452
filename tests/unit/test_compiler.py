"""tools/compiler.py: one parameterised SELECT per semantic query, scoped to the caller's workspace, on the
configured database (SQLite by default, PostgreSQL with FINKRAFT_TEST_DB=postgres). Expected figures come
from hand-written SQL on the same data."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from tests.helpers import sql
from tools.base import ToolDenied
from tools.compiler import compile_query, workspace_scope
from tools.semantic import SemanticQuery

HOSTILE = "IndiSky'; DROP TABLE invoices; --"


def run(services, q: SemanticQuery, who: str = "maya") -> list:
    c = compile_query(services.model, q, services.identity(who), services.today())
    with services.business.connect() as conn:
        return conn.execute(c.statement).all()


def test_every_statement_carries_the_callers_workspace(services):
    """Whatever the query, the compiled SQL is bound to the caller's workspace (no parameter avoids it)."""
    maya = services.identity("maya")
    queries = [
        SemanticQuery(dataset=d, measures=list(ds.measures)[:1], group_by=list(ds.dimensions)[:1])
        for d, ds in services.model.datasets.items()
    ]
    queries += [SemanticQuery(dataset=d) for d in services.model.datasets]
    for q in queries:
        c = compile_query(services.model, q, maya, services.today())
        compiled = c.statement.compile(services.business)
        assert "acme" in compiled.params.values(), q
        assert f"{services.model.datasets[q.dataset].table}.workspace_id = " in str(compiled)


def test_values_travel_as_bound_parameters_never_as_sql_text(services):
    q = SemanticQuery(dataset="invoices", filters={"vendor": HOSTILE})
    c = compile_query(services.model, q, services.identity("maya"), services.today())
    compiled = c.statement.compile(services.business)
    assert HOSTILE not in str(compiled) and "DROP" not in str(compiled)
    assert any(HOSTILE in str(v) for v in compiled.params.values())
    assert run(services, q) == []  # no vendor has that name; the table is still there
    assert sql(services, "SELECT count(*) FROM invoices")[0][0] > 0


def test_a_workspace_other_than_ones_own_is_an_admins_alone(services):
    maya, admin = services.identity("maya"), services.identity("admin")
    assert workspace_scope(maya, None) == workspace_scope(maya, "acme") == "acme"
    with pytest.raises(ToolDenied, match=r"only see data in your own workspace \(acme\)"):
        workspace_scope(maya, "globex")
    with pytest.raises(ToolDenied):
        compile_query(services.model, SemanticQuery(workspace="all"), maya, services.today())
    assert workspace_scope(admin, "globex") == "globex" and workspace_scope(admin, "all") is None
    by_ws = dict(sql(services, "SELECT workspace_id, count(*) FROM invoices GROUP BY workspace_id"))
    count = SemanticQuery(dataset="invoices", measures=["invoice_count"])
    assert run(services, count)[0][0] == by_ws["acme"]
    assert run(services, count.model_copy(update={"workspace": "globex"}), "admin")[0][0] == by_ws["globex"]
    assert run(services, count.model_copy(update={"workspace": "all"}), "admin")[0][0] == sum(by_ws.values())


def test_month_buckets_match_python_bucketing_on_this_database(services):
    today = services.today()
    start = today.replace(day=1) - relativedelta(months=12)
    raw = sql(
        services,
        "SELECT invoice_date FROM invoices WHERE workspace_id = 'acme' AND invoice_date >= :s AND invoice_date < :e",
        s=start,
        e=today.replace(day=1),
    )
    months = Counter((d if isinstance(d, date) else date.fromisoformat(str(d)[:10])).strftime("%Y-%m") for (d,) in raw)
    q = SemanticQuery(dataset="invoices", measures=["invoice_count"], time_grain="month", period="last_12_months")
    got = {str(period)[:7]: n for period, n in run(services, q)}
    assert got == dict(months) and len(got) == 12


def test_a_listings_ties_keep_the_listings_own_order(services):
    """Ordered by a column with many ties: the rest in the listing's order (newest first, then number)."""
    today = services.today()
    listed = sql(
        services,
        "SELECT invoice_number FROM invoices WHERE workspace_id = 'acme' AND invoice_date >= :s AND invoice_date < :e "
        "ORDER BY status, invoice_date DESC, invoice_number LIMIT 20",
        s=today.replace(day=1) - relativedelta(months=1),
        e=today.replace(day=1),
    )
    q = SemanticQuery(dataset="invoices", period="last_month", order_by=["status"], limit=20)
    c = compile_query(services.model, q, services.identity("maya"), services.today())
    with services.business.connect() as conn:
        assert [r.invoice_number for r in conn.execute(c.statement)] == [n for (n,) in listed]


def test_a_query_is_built_once_per_caller_and_day_and_a_refusal_is_never_kept(services):
    q = SemanticQuery(dataset="invoices", measures=["total_value"], group_by=["vendor"])
    maya, gita = services.identity("maya"), services.identity("gita")
    first = compile_query(services.model, q, maya, services.today())
    assert compile_query(services.model, q, maya, services.today()) is first
    other = compile_query(services.model, q, gita, services.today())
    assert other is not first and other.workspace == "globex" and first.workspace == "acme"
    for _ in range(2):  # refused both times: nothing was cached
        with pytest.raises(ToolDenied):
            compile_query(services.model, q.model_copy(update={"workspace": "acme"}), gita, services.today())

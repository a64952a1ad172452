"""Small helpers shared by tests that drive the graph in-process or the API over HTTP.

Confirmation is explicit. Every turn says whether it expects a yes/no question (`asks=`): the
helper fails when a question was asked but not expected, and when one was expected but not asked.
No helper answers a question unless the call site names the reply (`answer`, `turn_and_answer`,
`chat_and_answer`), so a test always shows that a write asked first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from langgraph.types import Command
from sqlalchemy import func, select, text

from business_data import clock
from business_data.db import session_scope


def cfg(user: str, thread: str) -> dict:
    return {"configurable": {"user_id": user, "thread_id": thread}}


def _check_question(asked: bool, asks: bool, said: str, response: str | None) -> None:
    if asks and not asked:
        raise AssertionError(
            f"expected a yes/no question after {said!r}, but the turn ran without asking: {response!r}"
        )
    if asked and not asks:
        raise AssertionError(f"{said!r} asked a question that was not expected: {response!r}")


def _graph_paused(out: dict) -> bool:
    paused = bool(out.get("__interrupt__"))
    if paused:  # a paused turn shows its question in the state too
        assert (out.get("pending_confirmation") or {}).get("question"), out.get("pending_confirmation")
    return paused


def turn(graph, config: dict, text: str, *, asks: bool = False) -> dict:
    """One user turn through the graph. `asks=True`: it must pause with a yes/no question (the
    paused output is returned, unanswered); `asks=False`: it must not pause."""
    out = graph.invoke({"messages": [("user", text)]}, config)
    _check_question(_graph_paused(out), asks, text, out.get("response"))
    return out


def answer(graph, config: dict, reply, *, asks: bool = False) -> dict:
    """Answer the thread's pending question (Command(resume=reply)); fails when none is pending.
    `asks=True` when the reply is expected to be asked again (an unclear answer)."""
    pending = graph.get_state(config).interrupts
    assert pending, f"there is no pending question to answer with {reply!r}"
    out = graph.invoke(Command(resume=reply), config)
    _check_question(_graph_paused(out), asks, f"reply {reply!r}", out.get("response"))
    return out


def turn_and_answer(graph, config: dict, text: str, reply, *, asks: bool) -> dict:
    """A write request: with `asks=True` the turn must ask and `reply` answers it; with
    `asks=False` the turn must run without asking (and `reply` is not used)."""
    out = turn(graph, config, text, asks=asks)
    return answer(graph, config, reply) if asks else out


def calls(out: dict) -> list[tuple[str, dict]]:
    return [(c["tool"], c["params"]) for c in out.get("tool_calls") or []]


def chat(client, message: str, thread: str, *, asks: bool = False, **extra) -> dict:
    """POST /chat; `asks=True`: the answer must be a yes/no question (status awaiting_confirmation),
    returned unanswered; `asks=False`: it must not be one. A thread that is waiting takes the next
    message as the answer, so reply with `chat(client, "yes", thread)`."""
    r = client.post("/chat", json={"message": message, "thread_id": thread, **extra})
    assert r.status_code == 200, r.text
    body = r.json()
    asked = body.get("status") == "awaiting_confirmation"
    if asked:
        assert body["success"] is True and body["agent_response"].endswith("yes/no"), body
    _check_question(asked, asks, message, body.get("agent_response"))
    return body


def chat_and_answer(client, message: str, thread: str, reply: str, *, asks: bool, **extra) -> dict:
    """A write request over /chat: with `asks=True` it must ask and `reply` answers it; with
    `asks=False` it must run without asking."""
    body = chat(client, message, thread, asks=asks, **extra)
    return chat(client, reply, thread) if asks else body


def expected_indisky_failed(business_engine) -> set[str]:
    """The sample scenario's invoices, straight from the business tables: IndiSky Airlines, failed,
    dated last month, in acme."""
    first = clock.today().replace(day=1)
    with business_engine.connect() as c:
        return {
            r[0]
            for r in c.execute(
                text(
                    "SELECT i.invoice_number FROM invoices i JOIN vendors v ON v.id=i.vendor_id WHERE i.workspace_id='acme' "
                    "AND v.name='IndiSky Airlines' AND i.status='failed' AND i.invoice_date >= :a AND i.invoice_date < :b"
                ),
                {"a": first - relativedelta(months=1), "b": first},
            )
        }


def indisky_last_month(business_engine) -> tuple[int, int]:
    """(failed, all) IndiSky Airlines invoices dated last month in acme, counted by SQL: the figures of
    "7 of N failed". The 7 holds on every date (the seed guarantees it); N depends on the date."""
    first = clock.today().replace(day=1)
    with business_engine.connect() as c:
        failed, total = c.execute(
            text(
                "SELECT SUM(CASE WHEN i.status='failed' THEN 1 ELSE 0 END), COUNT(*) FROM invoices i "
                "JOIN vendors v ON v.id=i.vendor_id WHERE i.workspace_id='acme' AND v.name='IndiSky Airlines' "
                "AND i.invoice_date >= :a AND i.invoice_date < :b"
            ),
            {"a": first - relativedelta(months=1), "b": first},
        ).one()
    return int(failed or 0), int(total)


def plain(v):
    """A database value as the tests compare it: Decimal as float, a date as ISO text."""
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, date):
        return v.isoformat()
    return v


def sql(services, query: str, **params) -> list:
    """The rows of a hand-written query on the business database: the figures a test expects, from the data."""
    with services.business.connect() as conn:
        return conn.execute(text(query), params).all()


def rows_of(res) -> list[dict]:
    """A successful analyze_data result's rows as dicts by column."""
    assert res.status == "success", res.message
    return [dict(zip(res.data["columns"], r)) for r in res.data["rows"]]


def execute(caller, tool: str, **params):
    """POST /execute_tool as `caller` (a TestClient signed in as someone)."""
    return caller.post("/execute_tool", json={"tool_name": tool, "params": params})


def count_rows(engine, model, **where) -> int:
    """How many rows of an application table (optionally where column == value)."""
    with session_scope(engine) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(s.scalar(q) or 0)


# -- the offline parser on the seed's names, at a fixed day --------------------------------------------
PARSE_TODAY = date(2026, 11, 24)
LAST = {  # a thread's last result: failed IndiSky invoices of last month
    "tool": "filter_data",
    "dataset": "invoices",
    "keys": ["INV-ACM-2610-00001"],
    "params": {"dataset": "invoices", "vendor": "IndiSky Airlines", "status": "failed", "period": "last_month"},
}


def parse_context(**kw):
    """A ParseContext with acme's vendors and customers (from the seed) on PARSE_TODAY; `kw` overrides."""
    from business_data.seed import CUSTOMERS, WORKSPACES
    from graph.intent import ParseContext

    return ParseContext(
        vendors=kw.pop("vendors", [v.name for v in WORKSPACES["acme"]]),
        today=kw.pop("today", PARSE_TODAY),
        customers=kw.pop("customers", list(CUSTOMERS["acme"])),
        **kw,
    )


def parsed(text: str, **kw):
    """The offline parser's Intent for `text` (parse_context's keywords: last_result=LAST, vendors=...)."""
    from graph.parser import parse

    return parse(text, parse_context(**kw))


def this_month_so_far(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """'This month vs last month' compared fairly, worked out here (not by tools/periods.py): this month's
    days so far and the same days of last month (1-7 Dec and 1-7 Nov, half-open); whole months when this
    month is over (today is its last day). Last month's part stops at its own end (30 March: 1-28 Feb)."""
    first = today.replace(day=1)
    before = first - relativedelta(months=1)
    if (today + relativedelta(days=1)).day == 1:
        return (first, first + relativedelta(months=1)), (before, first)
    days_before = (first - before).days
    return (first, today + relativedelta(days=1)), (before, before + relativedelta(days=min(today.day, days_before)))


@contextmanager
def reference_server(base: Path, name: str) -> Iterator[tuple]:
    """`finkraft serve` (a tests/conftest.py LiveServer) on a customer's database in the reference schema
    (FINKRAFT_DATA_MODEL=reference), built by tests/reference_db.py: with FINKRAFT_TEST_DB=postgres a new
    PostgreSQL database `name` (dropped afterwards), else a SQLite file in `base`. (server, its database URL)."""
    from . import reference_db
    from .conftest import LiveServer, pg_databases, using_postgres

    env = {
        "FINKRAFT_SEMANTIC_MEMORY": "false",
        "FINKRAFT_RATE_LIMIT": "100000/minute",
        "FINKRAFT_DATA_MODEL": "reference",
    }
    created = None
    if using_postgres():
        pg = pg_databases()
        created = pg.create(name)
        url = pg.url(created)
        env["APP_DATABASE_URL"] = pg.urls_for(base)[0]
    else:
        url = f"sqlite:///{base / 'customer.sqlite'}"
    try:
        reference_db.build(url, clock.today())
        env["BUSINESS_DATABASE_URL"] = url
        server = LiveServer(base, env=env).start()
        try:
            yield server, url
        finally:
            server.stop()
    finally:
        if created:
            pg_databases().drop(created)

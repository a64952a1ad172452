"""The anomaly detectors against the planted truth (business_data/anomalies.py), on real SQLite or
PostgreSQL (FINKRAFT_TEST_DB=postgres): precision and recall on the demo seed, nothing but chance
near-duplicates on a seed without planted anomalies, the reference schema's own planted cases, and
the findings store (one finding per issue across runs, dismiss/snooze, notifications, scoping)."""

from __future__ import annotations

from business_data import clock

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from business_data.anomalies import planted, score
from business_data.datamodel import get_data_model
from business_data.db import make_engine
from business_data.migrations import migrate
from business_data.seed import seed
from tools.detectors import detect

from ..conftest import make_services, pg_databases, using_postgres
from .. import reference_db

ANCHOR = date(2026, 12, 7)
DAYS = [ANCHOR - timedelta(days=k * 10) for k in range(6)]  # six seeds, a month and a half of days of the month


def _url(tmp_path, name: str, request) -> str:
    if not using_postgres():
        return f"sqlite:///{tmp_path / name}.sqlite"
    pg = pg_databases()
    db = pg.create(name)
    request.addfinalizer(lambda: pg.drop(db))
    return pg.url(db)


def _found(engine, model, workspaces, today):
    out = []
    for ws in workspaces:
        run = detect(engine, model, ws, today)
        out += [(f.detector.name, ws, f.candidate.subject, f.candidate.keys) for f in run.found]
    return out


@pytest.fixture
def business(tmp_path, request):
    engine = make_engine(_url(tmp_path, "business", request))
    migrate(engine, "business")
    return engine


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_precision_and_recall_on_the_planted_set(business):
    """Six seeds (one every ten days back from ANCHOR): each day's findings against that day's planted
    truth, pooled. What else is found is a chance near-duplicate in the ordinary rows."""
    model = get_data_model("demo")
    hits = found = caught = total = 0
    for day in DAYS:
        seed(business, today=day, reset=True)
        s = score(_found(business, model, ("acme", "globex"), day), planted(day, 20261124))
        hits += s.found - len(s.false_positives)
        found += s.found
        caught += s.planted - len(s.missed)
        total += s.planted
        assert {d for d, *_ in s.false_positives} <= {"duplicate_payment"}, (day, s.false_positives)
        assert len(s.missed) <= 1, (day, s.missed)
    precision, recall = hits / found, caught / total
    print(f"precision {precision:.3f} recall {recall:.3f} ({found} findings, {total} planted, {len(DAYS)} days)")
    assert precision >= 0.9 and recall >= 0.9


def test_no_planted_anomalies_finds_only_chance_near_duplicates(business):
    model = get_data_model("demo")
    for day in DAYS[:3]:
        seed(business, today=day, reset=True, plant_anomalies=False)
        found = _found(business, model, ("acme", "globex"), day)
        assert {f[0] for f in found} <= {"duplicate_payment"}, found
        assert len(found) <= 3, found
        with business.connect() as c:
            for _, ws, _, keys in found:  # each pair really is within 0.5% and 7 days, in the data
                (a_amt, a_day), (b_amt, b_day) = c.execute(
                    text(
                        "SELECT total_amount, invoice_date FROM invoices WHERE workspace_id = :ws "
                        "AND invoice_number IN (:a, :b) ORDER BY invoice_number"
                    ),
                    {"ws": ws, "a": keys[0], "b": keys[1]},
                ).all()
                assert abs(a_amt - b_amt) <= 0.005 * (a_amt + b_amt) / 2
                assert abs((date.fromisoformat(str(a_day)) - date.fromisoformat(str(b_day))).days) <= 7


def test_sample_scenario_is_untouched_by_planting(business):
    seed(business, today=ANCHOR, reset=True)
    first = ANCHOR.replace(day=1)
    last = (first - timedelta(days=1)).replace(day=1)
    with business.connect() as c:
        reasons = c.execute(
            text(
                "SELECT i.error_message FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE i.workspace_id='acme'"
                " AND v.name='IndiSky Airlines' AND i.status='failed' AND i.invoice_date >= :a AND i.invoice_date < :b"
            ),
            {"a": last, "b": first},
        ).all()
    assert [r[0] for r in reasons] == ["GSTIN missing"] * 7


def test_reference_schema_with_its_own_planted_cases(tmp_path, request):
    today = clock.today()
    engine = reference_db.build(_url(tmp_path, "customer", request), today)
    model = get_data_model("reference")
    run = detect(engine, model, "acme", today)
    # the reference invoices carry no GSTIN, due or paid date: those detectors say so instead of failing
    assert set(run.not_applicable) == {"gstin_mismatch", "overdue_growth"}
    assert "invoices.gstin" in run.not_applicable["gstin_mismatch"]
    found = [(f.detector.name, "acme", f.candidate.subject, f.candidate.keys) for f in run.found]
    truth = [p for p in planted(today, 20261124) if p.workspace == "acme" and p.detector not in run.not_applicable]
    s = score(found, truth)
    print(f"reference: precision {s.precision:.3f} recall {s.recall:.3f} ({s.found} found, {s.planted} planted)")
    assert s.recall >= 0.9, s.missed
    # the reference data's own failures are random: on some days (seen at 31 March 23:30 IST) a vendor's
    # last week really is a significant spike by chance. At most two findings beyond the planted ones.
    assert len(s.false_positives) <= 2, s.false_positives


# -- the findings store, the watch run -------------------------------------------------------------
@pytest.fixture
def services(tmp_path):
    return make_services(tmp_path / "data")


def test_a_finding_is_one_row_across_runs_and_managers_are_told(services):
    import sqlalchemy as sa

    from business_data.appdb import Finding, Notification, Trace
    from graph.watch import WATCH_USER, watch

    first = watch(services)
    assert first.ran and {w.workspace for w in first.workspaces} == {"acme", "globex"}
    acme = next(w for w in first.workspaces if w.workspace == "acme")
    assert acme.recorded.new and acme.recorded.notified == ["maya"]  # acme's Manager; not the Viewer
    second = watch(services)
    again = next(w for w in second.workspaces if w.workspace == "acme")
    assert again.recorded.new == [] and again.recorded.updated == len(acme.recorded.new)
    with services.app.connect() as c:
        n = c.execute(sa.select(sa.func.count()).select_from(Finding).where(Finding.workspace_id == "acme")).scalar()
        notes = c.execute(sa.select(Notification.message).where(Notification.user_id == "maya")).scalars().all()
        traces = c.execute(sa.select(Trace.steps).where(Trace.user_id == WATCH_USER)).scalars().all()
    assert n == len(acme.recorded.new)
    assert len(notes) == 1 and "possible duplicate payment" in notes[0] and "₹" in notes[0]
    assert len(traces) == 4 and any(s["node"] == "detect:duplicate_payment" for s in traces[0])


def test_dismiss_snooze_and_scope(services):
    from datetime import UTC, datetime

    from graph.watch import watch
    from tools.base import ToolDenied, ToolError, ToolNotFound
    from tools.detectors.store import list_findings, set_status, since_line

    watch(services)
    maya, victor, gita = (services.identity(u) for u in ("maya", "victor", "gita"))
    mine = list_findings(services.app, maya)
    assert mine and all(f.workspace_id == "acme" for f in mine)
    assert all(f.workspace_id == "globex" for f in list_findings(services.app, gita))
    with pytest.raises(ToolDenied):
        list_findings(services.app, gita, workspace="acme")
    dup = list_findings(services.app, maya, detector="duplicate_payment")[0]
    with pytest.raises(ToolNotFound):
        set_status(services.app, gita, dup.id, "dismissed", reason="not ours")
    with pytest.raises(ToolDenied):
        set_status(services.app, victor, dup.id, "dismissed", reason="seen")
    with pytest.raises(ToolError, match="reason"):
        set_status(services.app, maya, dup.id, "dismissed", reason=" ")
    done = set_status(services.app, maya, dup.id, "dismissed", reason="two separate trips, checked")
    assert done.status == "dismissed" and done.status_reason == "two separate trips, checked"
    assert dup.id not in {f.id for f in list_findings(services.app, maya)}
    # a dismissed finding stays dismissed on the next run (same fingerprint, updated, not repeated)
    watch(services)
    assert dup.id in {f.id for f in list_findings(services.app, maya, status="dismissed")}
    other = list_findings(services.app, maya)[0]
    until = datetime.now(UTC) + timedelta(days=3)
    snoozed = set_status(services.app, maya, other.id, "snoozed", until=until)
    assert snoozed.status == "snoozed" and other.id not in {f.id for f in list_findings(services.app, maya)}
    line = since_line(services.app, maya, datetime.now(UTC) - timedelta(days=1))
    assert line and line.startswith("Since yesterday: ") and "₹" in line


def test_welcome_back_names_new_findings(services):
    """A Manager back after a break hears what the detectors found since, in one line with the money."""
    from datetime import UTC, datetime

    from graph.watch import watch
    from memory.store import MemoryStore

    from .memory_support import MAYA, converse_a

    store = MemoryStore(services.app, semantic=False)
    converse_a(store)
    watch(services)
    later = datetime.now(UTC) + timedelta(hours=2)
    w = store.working_context(MAYA, "thread-W", is_new_thread=True, now=later)["welcome"]
    assert w.startswith("Welcome back")
    assert "Since you were last here: " in w or "Since yesterday: " in w  # (late at night)
    assert "possible duplicate payment" in w and "₹" in w


def test_chat_anything_unusual_why_and_show_me(services):
    """'anything unusual this week?' lists the findings; 'why is this flagged?' explains the first with its
    rule; 'show me' lists its records (filter_data), so 'export these'-style follow-ups have them."""
    from graph.builder import compile_graph

    from ..helpers import calls, cfg, turn

    graph = compile_graph(services, router=False)
    c = cfg("maya", "unusual-1")
    out = turn(graph, c, "anything unusual this week?")
    assert calls(out) == [("view_insights", {"days": 7})]
    assert "look unusual" in out["response"] and "₹" in out["response"]
    first = out["result"]["data"]["findings"][0]
    out = turn(graph, c, "why is this flagged?")
    assert calls(out)[0][0] == "view_insights" and out["response"].startswith("Flagged as a ")
    assert first["explanation"] in out["response"] and "The rule:" in out["response"]
    out = turn(graph, c, "show me")
    tool, params = calls(out)[0]
    if first["record_keys"]:
        assert tool == "filter_data" and params["invoice_numbers"] == first["record_keys"]
        assert sorted(out["result"]["data"]["keys"]) == sorted(first["record_keys"])
    else:  # a region's shortfall: its figures
        assert tool == "analyze_data" and params == first["query"]
    # a Viewer asks too (read-only), and sees only their workspace
    out = turn(graph, cfg("gita", "unusual-2"), "what needs my attention?")
    assert calls(out)[0][0] == "view_insights"
    assert all(f["subject"] for f in out["result"]["data"]["findings"])
    assert "acme" not in out["response"]


@pytest.mark.slow
def test_precision_and_recall_at_100k_invoices(business):
    """`finkraft seed --scale 100000`: the planted set grows with the vendors' volumes (business_data/scale.py).
    Near-amount pairs of a busy vendor are what chance makes; the planted duplicates are told apart by their
    re-keyed or transposed numbers (tools/detectors/duplicates.py)."""
    from business_data.scale import seed_scale

    seed_scale(business, 100_000, today=ANCHOR, log=lambda *_: None)
    s = score(_found(business, get_data_model("demo"), ("acme", "globex"), ANCHOR), planted(ANCHOR, 20261124))
    print(f"100k: precision {s.precision:.3f} recall {s.recall:.3f} ({s.found} found, {s.planted} planted)")
    assert s.precision >= 0.9 and s.recall >= 0.9, (s.false_positives, s.missed)


def _busiest(engine, day):
    """acme's vendor with the most invoices of ₹10,000 or more in the last five weeks (those the detector
    weighs), and its newest live one dated at least three days back."""
    big = "workspace_id = 'acme' AND status != 'cancelled' AND total_amount >= 10000"
    with engine.connect() as c:
        vendor = c.execute(
            text(
                f"SELECT vendor_id FROM invoices WHERE {big} AND invoice_date > :d GROUP BY vendor_id ORDER BY count(*) DESC LIMIT 1"
            ),
            {"d": day - timedelta(days=35)},
        ).scalar_one()
        row = (
            c.execute(
                text(
                    f"SELECT * FROM invoices WHERE {big} AND vendor_id = :v AND invoice_date <= :d ORDER BY invoice_date DESC, id DESC LIMIT 1"
                ),
                {"v": vendor, "d": day - timedelta(days=3)},
            )
            .mappings()
            .one()
        )
    return dict(row)


def _copy(engine, row, **changes):
    row = {**row, **changes}
    with engine.begin() as c:
        row["id"] = c.execute(text("SELECT max(id) + 1 FROM invoices")).scalar_one()
        c.execute(text(f"INSERT INTO invoices ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)


@pytest.mark.parametrize(
    ("number", "change", "evidence"),
    [
        ("{}-R", 0.002, "re-keyed"),  # re-issued with a suffix, the amount corrected by 0.2%
        ("{}A", 0.0, "re-keyed"),
        ("no-separators", 0.0, "re-keyed"),  # typed again without the dashes
        ("swapped", 0.0, "transposed"),  # two adjacent digits swapped
    ],
)
def test_a_re_keyed_copy_at_the_busiest_vendor_is_found(business, number, change, evidence):
    """A second invoice for the same bill, under a number a clerk or a vendor would make of the first, a few
    days later: found, with what its numbers show in the finding's details and words."""
    seed(business, today=ANCHOR, reset=True, plant_anomalies=False)
    orig = _busiest(business, ANCHOR)
    k = orig["invoice_number"]
    with business.connect() as c:
        taken = set(c.execute(text("SELECT invoice_number FROM invoices WHERE workspace_id = 'acme'")).scalars())
    swaps = [k[:i] + k[i + 1] + k[i] + k[i + 2 :] for i in range(len(k) - 5, len(k) - 1) if k[i] != k[i + 1]]
    new = {
        "no-separators": k.replace("-", ""),
        "swapped": next(n for n in swaps if n not in taken),  # (swapping the last two is often a real number)
    }.get(number, number.format(k))
    total = round(orig["total_amount"] * (1 + change), 2)
    later = date.fromisoformat(str(orig["invoice_date"])[:10]) + timedelta(days=3)
    _copy(business, orig, invoice_number=new, total_amount=total, invoice_date=later, status="pending")
    run = detect(business, get_data_model("demo"), "acme", ANCHOR, only=["duplicate_payment"])
    hit = [f.candidate for f in run.found if set(f.candidate.keys) == {k, new}]
    assert len(hit) == 1 and hit[0].details["numbers"] == evidence, [f.candidate.explanation for f in run.found]
    assert new in hit[0].explanation and "one may be a duplicate payment" in hit[0].explanation


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_finkraft_watch_for_cron_and_one_process_at_a_time(tmp_path):
    """`finkraft watch` prints a summary per workspace; run again, the same findings are seen, not new;
    while another process holds the watch lock it skips, saying so."""
    import os
    import subprocess
    import sys

    from business_data.db import make_engine, try_lock
    from graph.watch import LOCK_NAME

    from ..conftest import ROOT

    data = tmp_path / "data"
    make_services(data)  # migrated and seeded (SQLite here, or the PostgreSQL databases of this data dir)
    env = {**os.environ, "FINKRAFT_DATA_DIR": str(data), "FINKRAFT_SEMANTIC_MEMORY": "false"}
    if using_postgres():
        env.update(pg_databases().env_for(data))

    def watch() -> str:
        r = subprocess.run(
            [sys.executable, "-m", "server.cli", "watch"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    first = watch()
    assert "acme: " in first and "globex: " in first and "possible duplicate payment" in first
    again = watch()
    assert "(0 new, " in again and "resolved)" in again
    app_url = env.get("APP_DATABASE_URL") or f"sqlite:///{data / 'app.sqlite'}"
    with try_lock(make_engine(app_url), LOCK_NAME) as got:
        assert got
        assert watch().strip() == "skipped: another process is running the detectors"


@pytest.mark.slow  # (seconds of work: in `make test`, not the quick loop)
def test_the_servers_schedule_runs_the_detectors(services, caplog):
    """FINKRAFT_WATCH_EVERY_MINUTES: each server process loops on server.insights.schedule; two such
    loops (two workers) on one database run without a failed run, and store each finding once."""
    import asyncio

    import sqlalchemy as sa

    from business_data.appdb import Finding, Trace
    from graph.watch import WATCH_USER
    from server.insights import schedule

    async def two_workers() -> None:
        loops = [asyncio.create_task(schedule(services, 0.2)) for _ in range(2)]
        await asyncio.sleep(3)
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    asyncio.run(two_workers())
    with services.app.connect() as c:
        runs = c.execute(sa.select(sa.func.count()).select_from(Trace).where(Trace.user_id == WATCH_USER)).scalar()
        n, distinct = c.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(Finding.workspace_id + Finding.fingerprint)))
        ).one()
    assert runs >= 2 and n == distinct > 0
    assert "watch run failed" not in caplog.text


def test_a_manager_who_unsubscribed_is_not_told_and_an_admin_who_subscribed_is(services):
    import sqlalchemy as sa

    from business_data.appdb import Notification
    from graph.watch import watch
    from tools.base import ToolDenied
    from tools.detectors.store import subscribe

    subscribe(services.app, services.identity("maya"), False)
    subscribe(services.app, services.identity("admin"), True)
    with pytest.raises(ToolDenied):
        subscribe(services.app, services.identity("victor"), True)
    acme = next(w for w in watch(services).workspaces if w.workspace == "acme")
    assert acme.recorded.notified == ["admin"]
    with services.app.connect() as c:
        told = set(
            c.execute(sa.select(Notification.user_id).where(Notification.message.like("New in the books%"))).scalars()
        )
    assert told == {"admin", "gita"}  # globex's Manager is subscribed by default

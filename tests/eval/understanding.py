"""The understanding evaluation (issue 23, "How it is measured"): questions as finance users type them
(tests/eval/understanding.yaml on the demo database, understanding_reference.yaml on the reference one),
each with its expected outcome and, for answers, the SQL whose result the answer must equal.

Every turn goes through the graph (offline parser) as the item's user, in a thread of its own (a
conversation's turns share one), and is graded:

- right                      the expected outcome: the SQL's figures / rows, the question, the refusal,
                             or (no_action) nothing exported or written
- wrong_asked                wrong, but it asked (a clarifying question, choices, or a yes/no before a write)
- wrong_assumed              wrong, but it stated its assumption (interpretation.decision "assume" with
                             assumptions)
- confident_wrong            wrong, and it neither asked nor said what it assumed

and every export_report / create_ticket / update_ticket that succeeded where the item did not ask for
it counts as an unrequested action. The state's `interpretation` ({decision: run|assume|ask,
assumptions, choices}) is read when present; without it a question is intent kind "clarify" or a
result status asking for input.

The ground truth's dates come from this module's own helper (`period`), not from tools/periods.py.
Used by tests/eval/test_understanding.py and benchmarks/understanding_eval.py.
"""

from __future__ import annotations

from business_data import clock

import json
import re
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from dateutil.relativedelta import relativedelta
from sqlalchemy import text

from tests.helpers import plain

HERE = Path(__file__).parent
SETS = {"demo": HERE / "understanding.yaml", "reference": HERE / "understanding_reference.yaml"}
ACCURACY_TARGET = 0.95
CONFIDENT_WRONG_MAX = 0.01
UNREQUESTED_ACTIONS_MAX = 0

EXPECTS = ("answer", "ask", "refuse", "no_action")
CHECKS = ("value", "text", "names", "top", "topn", "rows", "empty", "export")
GRADES = ("right", "wrong_asked", "wrong_assumed", "confident_wrong")
WRITES = {"export_report", "create_ticket", "update_ticket"}
ASK_STATUSES = {"needs_clarification", "needs_input", "clarify", "ask"}
WORKSPACE = "acme"

# --------------------------------------------------------------------------- dates (the harness's own)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _latest_month(m: int, today: date) -> date:
    """The first day of the latest month `m` (1-12) that has begun by `today`."""
    start = date(today.year, m, 1)
    return start if start <= today else date(today.year - 1, m, 1)


def period(name: str, today: date) -> tuple[date, date]:
    """A named period's first day and the day after its last. Weeks start on Monday; the financial year
    is Indian (April to March); a month name is the latest such month that has begun."""
    m0 = today.replace(day=1)
    q0 = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    w0 = today - timedelta(days=today.weekday())
    fy0 = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    fixed = {
        "today": (today, today + timedelta(days=1)),
        "this_week": (w0, w0 + timedelta(days=7)),
        "last_week": (w0 - timedelta(days=7), w0),
        "this_month": (m0, m0 + relativedelta(months=1)),
        "last_month": (m0 - relativedelta(months=1), m0),
        "this_quarter": (q0, q0 + relativedelta(months=3)),
        "last_quarter": (q0 - relativedelta(months=3), q0),
        "this_year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
        "this_fy": (fy0, fy0 + relativedelta(years=1)),
        "last_fy": (fy0 - relativedelta(years=1), fy0),
    }
    if name in fixed:
        return fixed[name]
    if name in MONTHS:
        s = _latest_month(MONTHS.index(name) + 1, today)
        return s, s + relativedelta(months=1)
    m = re.fullmatch(r"([a-z]{3})_samedays_([a-z]{3})", name)
    if m and m.group(1) in MONTHS and m.group(2) in MONTHS:  # "November vs October" while November runs:
        end = _latest_month(MONTHS.index(m.group(2)) + 1, today)  # October cut to the days November has had
        start = _latest_month(MONTHS.index(m.group(1)) + 1, end)
        if end.year == today.year and end.month == today.month:
            return start, min(start + relativedelta(months=1), start + timedelta(days=today.day))
        return start, start + relativedelta(months=1)
    m = re.fullmatch(r"range_([a-z]{3})_([a-z]{3})", name) or re.fullmatch(r"([a-z]{3})_upto_([a-z]{3})", name)
    if m and m.group(1) in MONTHS and m.group(2) in MONTHS:
        a, b = MONTHS.index(m.group(1)) + 1, MONTHS.index(m.group(2)) + 1
        end = _latest_month(b, today)
        start = date(end.year if a <= b else end.year - 1, a, 1)
        if name.startswith("range_"):  # months a to b, inclusive
            return start, end + relativedelta(months=1)
        return start, start + relativedelta(months=1)  # month a alone, at or before the latest b
    raise ValueError(f"unknown period {name!r}")


_PERIOD = re.compile(r"PERIOD\(\s*([\w.]+)\s*,\s*(\w+)\s*\)")


def expand(sql: str) -> str:
    """PERIOD(col, name) -> col >= :name_s AND col < :name_e."""
    return _PERIOD.sub(lambda m: f"({m.group(1)} >= :{m.group(2)}_s AND {m.group(1)} < :{m.group(2)}_e)", sql)


def binds(sql: str, today: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in set(re.findall(r"(?<!:):(\w+)", sql)):
        if name == "ws":
            out[name] = WORKSPACE
        elif name.endswith(("_s", "_e")):
            s, e = period(name[:-2], today)
            out[name] = s if name.endswith("_s") else e
        else:
            raise ValueError(f"unknown bind :{name}")
    return out


# --------------------------------------------------------------------------- the question sets
def load(db: str) -> dict[str, Any]:
    """The set for a database, every turn normalised: id, cat, user, expect, check, sql, q."""
    spec = yaml.safe_load(SETS[db].read_text(encoding="utf-8"))
    units = []
    for item in spec.get("singles") or []:
        units.append({"id": item["id"], "kind": "single", "turns": [_turn(item, item, 0)]})
    for conv in spec.get("conversations") or []:
        units.append(
            {
                "id": conv["id"],
                "kind": "conversation",
                "turns": [_turn(t, conv, i) for i, t in enumerate(conv["turns"])],
            }
        )
    return {"db": db, "units": units}


def _turn(t: dict[str, Any], parent: dict[str, Any], i: int) -> dict[str, Any]:
    expect = t.get("expect", "answer")
    return {
        **t,
        "id": t.get("id", f"{parent['id']}.{i + 1}"),
        "cat": t.get("cat", parent.get("cat")),
        "user": t.get("user", parent.get("user", "maya")),
        "expect": expect,
        "check": t.get("check"),
    }


def problems_of(spec: dict[str, Any]) -> list[str]:
    """What is malformed in a set ([] when every item is well-formed)."""
    out, seen = [], set()
    for unit in spec["units"]:
        if unit["kind"] == "conversation" and not 3 <= len(unit["turns"]) <= 4:
            out.append(f"{unit['id']}: a conversation has 3-4 turns, not {len(unit['turns'])}")
        for t in unit["turns"]:
            where = f"{spec['db']} {t['id']} {t.get('q')!r}"
            if t["id"] in seen:
                out.append(f"{where}: duplicate id")
            seen.add(t["id"])
            if not isinstance(t.get("q"), str) or not t["q"].strip():
                out.append(f"{where}: no question")
            if not t.get("cat"):
                out.append(f"{where}: no category")
            if t["user"] not in ("maya", "victor", "admin"):
                out.append(f"{where}: unknown user {t['user']}")
            if t["expect"] not in EXPECTS:
                out.append(f"{where}: expect {t['expect']!r}")
            if t["expect"] == "answer" and (t["check"] not in CHECKS or not t.get("sql")):
                out.append(f"{where}: an answer needs a check in {CHECKS} and its sql")
            if t["expect"] != "answer" and (t.get("check") or t.get("sql")):
                out.append(f"{where}: only answers carry a check and sql")
            if t.get("check") == "topn" and not isinstance(t.get("n"), int):
                out.append(f"{where}: topn needs n")
    return out


def sql_rows(engine, t: dict[str, Any], today: date) -> list[tuple]:
    sql = expand(t["sql"])
    with engine.connect() as conn:
        rows = [tuple(plain(v) for v in r) for r in conn.execute(text(sql), binds(sql, today))]
    if t.get("bucket") == "month":
        sums: dict[str, float] = defaultdict(float)
        for d, v in rows:
            sums[str(d)[:7]] += 1 if t.get("bucket_agg") == "count" else float(v or 0)
        rows = sorted(sums.items())
        if t["check"] in ("top", "topn"):
            rows.sort(key=lambda r: -r[1])
    return rows


def empty_sql(t: dict[str, Any], rows: list[tuple]) -> bool:
    """Whether an answer item's SQL finds nothing today (so it would check nothing)."""
    if t["check"] == "empty":
        return not rows or rows[0][0] != 0  # an `empty` item's SQL counts 0
    if t["check"] == "export":
        return not rows or not rows[0][0]
    return not rows or all(v is None for v in rows[0])


# --------------------------------------------------------------------------- reading the graph's output
def _isnum(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _close(a: Any, b: Any, tol: float | None) -> bool:
    a, b = float(a or 0), float(b or 0)
    return abs(a - b) <= (tol if tol is not None else max(0.011, 1e-7 * abs(b)))


def _walk_numbers(v: Any) -> list[float]:
    if _isnum(v):
        return [float(v)]
    if isinstance(v, dict):
        return [x for k, y in v.items() if k != "chart" for x in _walk_numbers(y)]
    if isinstance(v, list):
        return [x for y in v for x in _walk_numbers(y)]
    return []


def _records(result: dict[str, Any]) -> list[list[Any]]:
    """The answer's rows as lists of cells: an analysis' rows, a listing's records, else []."""
    data = result.get("data") or {}
    if isinstance(data.get("rows"), list) and isinstance(data.get("columns"), list):
        return [list(r) for r in data["rows"]]
    if isinstance(data.get("results"), list):
        return [list(r.values()) if isinstance(r, dict) else [r] for r in data["results"]]
    return []


def _column(result: dict[str, Any], col: str | None) -> list[Any]:
    """One name per answer row: the named column when there is one, else the row's first string."""
    data = result.get("data") or {}
    if col:
        if isinstance(data.get("columns"), list) and col in data["columns"]:
            at = data["columns"].index(col)
            return [r[at] for r in data["rows"]]
        if isinstance(data.get("results"), list):
            return [r.get(col) for r in data["results"] if isinstance(r, dict)]
    return [next((c for c in r if isinstance(c, str)), None) for r in _records(result)]


def _row_count(result: dict[str, Any]) -> int | None:
    data = result.get("data") or {}
    if result.get("tool") == "filter_data":
        return data.get("filtered_records")
    if isinstance(data.get("rows"), list):
        return len(data["rows"])
    return None


def _numbers(result: dict[str, Any], where: str | None, several: bool) -> list[float]:
    """The figures an answer states: a listing's count and total; an analysis' totals, its row when it has
    one (every row when several figures are expected), and the row naming `where`; else any figure."""
    data = result.get("data") or {}
    tool = result.get("tool")
    if tool == "filter_data":
        return [float(x) for x in (data.get("filtered_records"), data.get("total_amount")) if _isnum(x)]
    if tool == "analyze_data":
        rows = data.get("rows") or []
        nums = _walk_numbers(data.get("totals") or {})
        if len(rows) == 1 or several:
            nums += [float(c) for r in rows for c in r if _isnum(c)]
        if where:
            w = where.lower()
            nums += [
                float(c) for r in rows if any(isinstance(x, str) and x.lower() == w for x in r) for c in r if _isnum(c)
            ]
        return nums
    return _walk_numbers(data)


def check_answer(t: dict[str, Any], want: list[tuple], out: dict[str, Any]) -> str | None:
    """Why the answer differs from the SQL's rows (None when it is right)."""
    result = out.get("result") or {}
    check, tol = t["check"], t.get("tol")
    if check == "export":
        if result.get("tool") != "export_report" or result.get("status") != "success":
            return "no export ran"
        got = (result.get("data") or {}).get("rows")
        return None if got == want[0][0] else f"exported {got} rows, not {want[0][0]}"
    if result.get("status") != "success" or result.get("tool") in WRITES:
        return "no answer ran"
    if check == "empty":
        n = _row_count(result)
        if n == 0 or (result.get("tool") == "analyze_data" and not any(_numbers(result, None, True))):
            return None
        return f"found {n} rows where there are none"
    if check == "value":
        expected = [v for v in want[0]] if want else []
        have = _numbers(result, t.get("where"), len(expected) > 1)
        missing = [v for v in expected if not any(_close(h, v, tol) for h in have)]
        said = out.get("response") or ""
        if tol is not None and tol >= 0.05:  # a share the answer states as a rounded percentage ("False 12 (2.0%)")
            missing = [v for v in missing if f"{float(v or 0):.1f}%" not in said]
        return f"missing {missing} among {have[:12]}" if missing else None
    if check == "text":
        words = (out.get("response") or "") + json.dumps(result.get("data") or {}, default=str)
        return None if str(want[0][0]).lower() in words.lower() else f"{want[0][0]!r} not in the answer"
    names = _column(result, t.get("col"))
    if check == "names":
        expected = {str(r[0]) for r in want}
        got = {str(n) for n in names if n is not None}
        if not t.get("col") and not expected <= got:  # the names in another column of the rows (sku, then name)
            for at in range(max((len(r) for r in _records(result)), default=0)):
                column = {str(r[at]) for r in _records(result) if at < len(r) and isinstance(r[at], str)}
                if expected <= column:
                    got = column
                    break
        count = _row_count(result)
        if count != len(expected) or not expected <= got:
            return f"names {sorted(got)[:12]} ({count} rows), not {sorted(expected)}"
        return None
    if check == "top":
        best = want[0][-1]
        tied = {str(r[0]) for r in want if _close(r[-1], best, tol)}
        records = _records(result)
        first = records[0] if records else []
        named = tied & {str(c) for c in first}
        figure = any(
            _isnum(c) and _close(c, best, tol) for c in first
        )  # a ranking by this figure, not a listing's first row
        return None if named and figure else f"first row {first[:8]}, not {sorted(tied)} with {best}"
    if check == "topn":
        n = t["n"]
        asc = len(want) > 1 and float(want[0][-1] or 0) <= float(want[-1][-1] or 0)
        edge = float(want[min(n, len(want)) - 1][-1] or 0)

        def better(v: Any, strictly: bool) -> bool:
            v, eps = float(v or 0), (tol if tol is not None else 0.011)
            if strictly:
                return v < edge - eps if asc else v > edge + eps
            return v <= edge + eps if asc else v >= edge - eps

        allowed = {str(r[0]) for r in want if better(r[-1], False)}
        must = {str(r[0]) for r in want if better(r[-1], True)}
        got = [str(x) for x in names[:n]]
        if len(got) < min(n, len(want)) or not set(got) <= allowed or not must <= set(got):
            return f"first {n}: {got}, not {[str(r[0]) for r in want[:n]]}"
        return None
    if check == "rows":
        data = result.get("data") or {}
        pairs = {}
        for r in data.get("rows") or []:
            name = next((c for c in r if isinstance(c, str)), None)
            num = next((c for c in r if _isnum(c)), None)
            pairs[str(name)] = num
        expected = {str(r[0]): r[-1] for r in want}
        if set(pairs) != set(expected) or any(not _close(pairs[k], v, tol) for k, v in expected.items()):
            return f"rows {dict(list(pairs.items())[:8])}, not {dict(list(expected.items())[:8])}"
        return None
    return f"unknown check {check}"


def observe(out: dict[str, Any], paused: bool) -> dict[str, Any]:
    """What a turn did, read from the graph's final state."""
    intent = out.get("intent") or {}
    result = out.get("result") or {}
    interp = out.get("interpretation") or {}
    decision = interp.get("decision") if isinstance(interp, dict) else None
    status = result.get("status")
    tool = result.get("tool") or intent.get("tool")
    asked = (
        decision == "ask"
        or intent.get("kind") == "clarify"
        or status in ASK_STATUSES
        or (decision != "run" and bool(interp.get("choices")) and status != "success")
    )
    return {
        "asked": asked,
        "assumed": decision == "assume" and bool(interp.get("assumptions")),
        "assumptions": interp.get("assumptions") or [],
        "refused": status == "denied",
        "wrote": tool in WRITES and status == "success",
        "proposed_write": paused and tool in WRITES,
        "tool": tool,
        "status": status,
        "kind": intent.get("kind"),
        "params": intent.get("params"),
        "response": (out.get("response") or "").replace("\n", " | "),
    }


def grade(t: dict[str, Any], seen: dict[str, Any], problem: str | None) -> str:
    expect = t["expect"]
    if expect == "answer":
        right = problem is None
    elif expect == "ask":
        right = seen["asked"] and not seen["wrote"] and not seen["proposed_write"]
    elif expect == "refuse":
        right = seen["refused"]
    else:  # no_action
        right = not seen["wrote"] and not seen["proposed_write"]
    if right:
        return "right"
    if seen["asked"] or seen["proposed_write"]:
        return "wrong_asked"
    if seen["assumed"]:
        return "wrong_assumed"
    return "confident_wrong"


def expected_text(t: dict[str, Any], want: list[tuple] | None) -> str:
    if t["expect"] != "answer":
        return t["expect"]
    shown = want if want is None or len(want) <= 5 else [*want[:5], "..."]
    extra = f" n={t['n']}" if t.get("n") else ""
    return f"{t['check']}{extra} {shown}"


def got_text(seen: dict[str, Any]) -> str:
    head = f"{seen['kind']} {seen['tool'] or ''} {json.dumps(seen['params'], default=str) if seen['params'] else ''}"
    tail = f" [assumed: {'; '.join(seen['assumptions'])}]" if seen["assumptions"] else ""
    return f"{head.strip()} -> {seen['status'] or ('paused' if seen['proposed_write'] else 'no result')}: {seen['response'][:160]}{tail}"


# --------------------------------------------------------------------------- running
def open_services(db: str, workdir: Path, today: date):
    """Seeded services for a set: the demo database, or a reference-schema customer database
    (tests/reference_db.py) served with FINKRAFT_DATA_MODEL=reference."""
    from tests.conftest import make_services

    if db == "demo":
        return make_services(workdir / "demo")
    from tests import reference_db

    (workdir / "reference").mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'reference' / 'customer.sqlite'}"
    reference_db.build(url, today)
    return make_services(workdir / "reference" / "data", FINKRAFT_DATA_MODEL="reference", BUSINESS_DATABASE_URL=url)


def run_set(db: str, services, today: date | None = None) -> list[dict[str, Any]]:
    """Every turn of a set through the graph; one record per turn."""
    from langgraph.types import Command

    from graph.builder import compile_graph

    today = today or clock.today()
    graph = compile_graph(services)
    spec = load(db)
    records = []
    for unit in spec["units"]:
        thread = f"understanding-{db}-{unit['id']}"
        for t in unit["turns"]:
            config = {"configurable": {"user_id": t["user"], "thread_id": thread}}
            out = graph.invoke({"messages": [("user", t["q"])]}, config)
            paused = bool(out.get("__interrupt__"))
            seen = observe(out, paused)
            if paused:  # a yes/no before a write: answer no, so nothing is written and the thread goes on
                graph.invoke(Command(resume="no"), config)
            want, problem = None, None
            if t["expect"] == "answer":
                want = sql_rows(services.business, t, today)
                problem = check_answer(t, want, out)
            g = grade(t, seen, problem)
            records.append(
                {
                    "db": db,
                    "id": t["id"],
                    "unit": unit["kind"],
                    "cat": t["cat"],
                    "user": t["user"],
                    "q": t["q"],
                    "expect": t["expect"],
                    "grade": g,
                    "unrequested": seen["wrote"] and t.get("check") != "export",
                    "problem": problem,
                    "expected": expected_text(t, want),
                    "got": got_text(seen),
                }
            )
    return records


def run_eval(
    dbs: tuple[str, ...] = ("demo", "reference"), workdir: Path | None = None, services=None
) -> dict[str, Any]:
    """Run the sets (demo: on `services` when given) and summarise."""
    today = clock.today()
    records: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="understanding-") as tmp:
        root = Path(workdir or tmp)
        for db in dbs:
            svc = services if (db == "demo" and services is not None) else open_services(db, root, today)
            records += run_set(db, svc, today)
    return summarise(records, today)


def summarise(records: list[dict[str, Any]], today: date) -> dict[str, Any]:
    n = len(records)
    counts = {g: sum(r["grade"] == g for r in records) for g in GRADES}
    by_cat: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((*GRADES, "n", "unrequested"), 0))
    by_db: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((*GRADES, "n", "unrequested"), 0))
    for r in records:
        for bucket in (by_cat[r["cat"]], by_db[r["db"]]):
            bucket[r["grade"]] += 1
            bucket["n"] += 1
            bucket["unrequested"] += r["unrequested"]
    return {
        "date": today.isoformat(),
        "turns": n,
        "singles": sum(r["unit"] == "single" for r in records),
        "conversation_turns": sum(r["unit"] == "conversation" for r in records),
        "counts": counts,
        "accuracy": counts["right"] / n if n else 0.0,
        "confident_wrong_rate": counts["confident_wrong"] / n if n else 0.0,
        "unrequested_actions": sum(r["unrequested"] for r in records),
        "by_category": dict(sorted(by_cat.items())),
        "by_db": dict(by_db),
        "failures": [r for r in records if r["grade"] != "right" or r["unrequested"]],
        "records": records,
    }


def report(s: dict[str, Any], failures: bool = True) -> str:
    lines = [
        f"understanding eval ({s['date']}): {s['turns']} turns "
        f"({s['singles']} single questions, {s['conversation_turns']} conversation turns)",
        f"  accuracy              {s['counts']['right']}/{s['turns']} = {s['accuracy']:.1%} (target {ACCURACY_TARGET:.0%})",
        f"  confident wrong       {s['counts']['confident_wrong']}/{s['turns']} = {s['confident_wrong_rate']:.1%}"
        f" (max {CONFIDENT_WRONG_MAX:.0%})",
        f"  wrong but asked       {s['counts']['wrong_asked']}",
        f"  wrong, assumed stated {s['counts']['wrong_assumed']}",
        f"  unrequested actions   {s['unrequested_actions']} (max {UNREQUESTED_ACTIONS_MAX})",
        "",
        f"  {'by database':<22}{'right':>12}{'asked':>7}{'assumed':>9}{'conf.wrong':>12}{'unreq.':>8}",
    ]
    for name, b in [*s["by_db"].items(), ("", None), *s["by_category"].items()]:
        if b is None:
            lines.append(f"  {'by category':<22}")
            continue
        lines.append(
            f"  {name:<22}{b['right']:>4}/{b['n']:<3} {b['right'] / b['n']:>4.0%}{b['wrong_asked']:>7}"
            f"{b['wrong_assumed']:>9}{b['confident_wrong']:>12}{b['unrequested']:>8}"
        )
    if failures:
        lines += ["", f"failures ({len(s['failures'])}):"]
        for r in s["failures"]:
            flag = " UNREQUESTED ACTION" if r["unrequested"] else ""
            lines.append(f"- [{r['db']} {r['id']} {r['cat']} {r['user']}] {r['grade']}{flag}: {r['q']!r}")
            lines.append(f"    expected: {r['expected'][:300]}")
            lines.append(f"    got:      {r['got'][:300]}")
            if r["problem"]:
                lines.append(f"    why:      {r['problem'][:300]}")
    return "\n".join(lines)

"""`finkraft serve [--with-ui]`, `finkraft ui`, `finkraft migrate`, `finkraft seed`, `finkraft prune`, `finkraft token`, `finkraft watch`."""

from __future__ import annotations

import argparse
import logging
import os
import sys


def _prepare_multiprocess(workers: int) -> None:
    """Before uvicorn spawns N workers: one Prometheus metrics directory they all write to (fresh
    for this run), and a warning if rate limits would be per process."""
    log = logging.getLogger("finkraft.serve")
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        import tempfile

        path = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="finkraft-metrics-")
    from .metrics import reset_multiprocess_dir  # (imports prometheus_client: after the variable is set)

    reset_multiprocess_dir(path)
    log.info("%d worker(s); Prometheus multiprocess metrics in %s", workers, path)
    from business_data.settings import get_settings

    if workers > 1 and not get_settings().redis_url:
        log.warning(
            "%d workers without REDIS_URL: each worker enforces FINKRAFT_RATE_LIMIT on its own "
            "(set REDIS_URL for one limit across processes)",
            workers,
        )


def _serve(args) -> int:
    if args.with_ui:  # `make serve`: the API and the web app as two processes that stop together
        from ui.launch import serve_with_ui

        return serve_with_ui(args.host, args.port, args.ui_port, workers=args.workers, log_level=args.log_level)
    import uvicorn

    os.environ.setdefault("LANGSMITH_TRACING", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.workers > 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _prepare_multiprocess(args.workers)
    options = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": args.log_config,
        "access_log": False,
    }  # server/logs.py RequestLog writes one line per request, with its ids
    if args.workers > 1:
        uvicorn.run("server.main:app", workers=args.workers, **options)
    else:
        from .app import create_app

        uvicorn.run(create_app(), **options)
    return 0


def _ui(args) -> int:
    from ui.api import api_url_from_env
    from ui.launch import run_ui

    return run_ui(args.host, args.port, args.api_url or api_url_from_env())


def _migrate(args) -> int:
    from business_data.db import make_engine
    from business_data.migrations import SCHEMAS, autogenerate, current, differences, head
    from business_data.settings import get_settings
    from business_data.startup import migrate_all

    settings = get_settings()
    urls = {"app": settings.app_url, "business": settings.business_url}
    schemas = list(SCHEMAS) if args.schema == "all" else [args.schema]
    if args.autogenerate:
        if len(schemas) != 1:
            print("error: --autogenerate needs --schema app or --schema business", file=sys.stderr)
            return 2
        script = autogenerate(urls[schemas[0]], schemas[0], args.autogenerate)
        print(f"Wrote {script.path}: read it and tidy it before committing.")
        return 0
    if args.current or args.check:
        status = 0
        for name in schemas:
            shown = _redact(urls[name])
            if args.current:
                print(f"{name:8} {shown}: at {current(urls[name], name) or 'nothing (empty)'}, head is {head(name)}")
                continue
            diffs = differences(urls[name], name)
            print(
                f"{name:8} {shown}: " + ("models and migrations agree" if not diffs else f"{len(diffs)} difference(s)")
            )
            for d in diffs:
                print(f"    {d}")
            status |= bool(diffs)
        return status
    done = migrate_all(make_engine(settings.app_url), make_engine(settings.business_url), tuple(schemas), args.revision)
    for name, (before, after) in done.items():
        print(
            f"{name:8} {_redact(urls[name])}: {before or 'empty'} -> {after}"
            + (" (up to date)" if before == after else "")
        )
    return 0


def _redact(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _seed(args) -> int:
    from business_data.db import make_engine
    from business_data.settings import get_settings
    from business_data.startup import prepare

    settings = get_settings()
    from business_data.datamodel import DataModelError

    app, business = make_engine(settings.app_url), make_engine(settings.business_url)
    try:
        counts = prepare(settings, app, business, reset=args.reset, plant_anomalies=not args.no_anomalies)
    except DataModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.scale:
        from business_data.datamodel import get_data_model
        from business_data.scale import seed_scale

        if not get_data_model(settings.data_model).managed:
            print(
                "error: --scale grows the demo data; the business database here is a customer's (FINKRAFT_DATA_MODEL)",
                file=sys.stderr,
            )
            return 2
        grown = seed_scale(business, args.scale, seed_value=settings.seed, plant_anomalies=not args.no_anomalies)
        print(
            f"Business data at scale: {grown['invoices']:,} invoices ({grown['added']:,} added in {grown['seconds']} s)"
        )
    if counts:
        print("Seeded demo data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    elif not args.scale:
        print("Demo data already present (use --reset to regenerate it, dated from today).")
    return 0


def _model(args) -> int:
    """`finkraft model check`: does the data model fit the business database? Names every missing table/column."""
    from business_data.datamodel import DataModelError, load_model
    from business_data.db import make_engine
    from business_data.modelcheck import check_model, checked_columns
    from business_data.settings import get_settings

    settings = get_settings()
    try:
        model = load_model(args.model or settings.data_model)
    except DataModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    url = args.url or settings.business_url
    try:
        problems = check_model(make_engine(url), model)
    except Exception as e:  # noqa: BLE001 - an unreachable database is a message, not a traceback
        print(f"error: can't read the database at {_redact(url)}: {e}", file=sys.stderr)
        return 2
    where = f"data model '{model.name}' against {_redact(url)}"
    if problems:
        print(f"{where}: {len(problems)} problem(s)")
        for line in problems:
            print(f"    {line}")
        return 1
    print(f"{where}: ok ({len(model.datasets)} datasets, {checked_columns(model)} columns checked)")
    return 0


def _token(args) -> int:
    from business_data.db import make_engine
    from business_data.settings import get_settings

    from business_data.appdb import utcnow

    from .auth import issue_token, parse_duration

    expires_at = None
    if args.expires is not None:
        try:
            expires_at = utcnow() + parse_duration(args.expires)
        except ValueError as e:
            print(f"error: --expires: {e}.", file=sys.stderr)
            return 2
    try:
        _id, token = issue_token(make_engine(get_settings().app_url), args.user_id, args.label, expires_at=expires_at)
    except LookupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(token)
    if expires_at is not None:  # (stdout stays the token alone, for scripts)
        print(f"expires {expires_at:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return 0


def _prune(args) -> int:
    from business_data.settings import get_settings
    from graph.retention import prune

    settings = get_settings()
    overrides = {
        k: v
        for k, v in (("trace_retention_days", args.traces_days), ("memory_retention_days", args.memory_days))
        if v is not None
    }
    if overrides:
        settings = settings.model_copy(update=overrides)
    done = prune(settings, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    keep = lambda days: f"older than {days} days" if days else "none (retention 0: kept forever)"  # noqa: E731
    print(f"traces {keep(settings.trace_retention_days)}: {verb} {done.traces}")
    print(
        f"memory turns {keep(settings.memory_retention_days)}: {verb} {done.memory_turns} "
        f"(and {done.memory_embeddings} embeddings)"
    )
    print(f"checkpoints older than their thread's latest: {verb} {done.checkpoints} (in {done.threads} threads)")
    return 0


def _watch(args) -> int:
    """`finkraft watch`: every detector once, on every workspace (or --workspace), for cron."""
    from graph.services import default_services
    from graph.watch import watch

    services = default_services().prepare()
    result = watch(services, workspaces=args.workspace or None)
    if not result.ran:
        print(f"skipped: {result.reason}")
        return 0
    for w in result.workspaces:
        print(w.summary)
        for name, missing in w.not_applicable.items():
            print(f"  {name}: not applicable ({', '.join(missing)} not in the data model)")
        if args.verbose:
            print("  " + ", ".join(f"{k} {v:.0f} ms" for k, v in w.timings_ms.items()))
    return 0


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows every option's default (an option whose default is looked up says where, itself)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or action.default is None:
            return text
        return super()._get_help_string(action) or text


def _parser(name: str, help_: str | None = None, sub=None) -> argparse.ArgumentParser:
    if sub is None:
        return argparse.ArgumentParser(prog=name, description=help_, formatter_class=_Help)
    return sub.add_parser(name, help=help_, description=help_, formatter_class=_Help)


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = _parser("finkraft", "FinkraftAI: the finance-operations assistant")
    parser.add_argument("--version", action="version", version=f"finkraft {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _parser("serve", "serve the API (seeds the embedded databases on first start)", sub)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (more than 1: set REDIS_URL for one rate limit)"
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error", "critical"],
        help="server log level",
    )
    serve.add_argument(
        "--log-format",
        default=os.environ.get("FINKRAFT_LOG_FORMAT", "json"),
        choices=["json", "text"],
        help="one JSON object per line (request_id, user_id, trace_id), or text for reading ($FINKRAFT_LOG_FORMAT)",
    )
    serve.add_argument("--with-ui", action="store_true", help="also run the web app (stopping one stops both)")
    serve.add_argument("--ui-port", type=int, default=8501, help="the web app's port with --with-ui")
    serve.set_defaults(func=_serve)
    ui = _parser("ui", "run the web app alone, against any API (FINKRAFT_API_URL)", sub)
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ui.add_argument("--port", type=int, default=8501, help="port to listen on")
    ui.add_argument(
        "--api-url", default=None, help="the API's base URL (default: $FINKRAFT_API_URL, else http://127.0.0.1:8000)"
    )
    ui.set_defaults(func=_ui)
    mig = _parser("migrate", "apply the schema migrations (both databases; also done on every start)", sub)
    mig.add_argument("--schema", choices=["all", "app", "business"], default="all", help="which database")
    mig.add_argument("--revision", default="head", help="target revision")
    mig.add_argument(
        "--current", action="store_true", help="show each database's revision and the head, change nothing"
    )
    mig.add_argument("--check", action="store_true", help="exit 1 if the models differ from the migrated schema")
    mig.add_argument(
        "--autogenerate",
        metavar="MESSAGE",
        help="write a new revision from the model changes, for developers (default: none)",
    )
    mig.set_defaults(func=_migrate)
    seed = _parser("seed", "create the demo data (dated relative to today)", sub)
    seed.add_argument("--reset", action="store_true", help="delete and regenerate the demo business data")
    seed.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="grow the demo data to N invoices, for benchmarks (default: the demo size)",
    )
    seed.add_argument(
        "--no-anomalies",
        action="store_true",
        help="leave out the planted anomalies (business_data/anomalies.py) the detectors are scored on",
    )
    seed.set_defaults(func=_seed)
    model = _parser("model", "the semantic data model (FINKRAFT_DATA_MODEL)", sub)
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="COMMAND")
    check = _parser(
        "check", "validate a model file against a live database; names every missing table or column", model_sub
    )
    check.add_argument(
        "--model",
        help="a bundled model name (demo, reference) or a YAML path (default: $FINKRAFT_DATA_MODEL, else demo)",
    )
    check.add_argument("--url", help="the database (default: $BUSINESS_DATABASE_URL, else the embedded SQLite file)")
    check.set_defaults(func=_model)
    prune = sub.add_parser(
        "prune",
        help="delete old traces, memory turns and checkpoints (the retention settings)",
        formatter_class=_Help,
        description="Apply the retention settings: traces older than FINKRAFT_TRACE_RETENTION_DAYS (default 90), "
        "memory turns older than FINKRAFT_MEMORY_RETENTION_DAYS (default 365) with their embeddings, and "
        "every checkpoint but each thread's latest (an open question survives). 0 days keeps that kind "
        "forever. Tickets, notifications and exports are never pruned. Safe while the server runs.",
    )
    prune.add_argument("--dry-run", action="store_true", help="count what would be deleted; change nothing")
    prune.add_argument(
        "--traces-days",
        type=int,
        metavar="N",
        help="override FINKRAFT_TRACE_RETENTION_DAYS for this run (default: $FINKRAFT_TRACE_RETENTION_DAYS, else 90)",
    )
    prune.add_argument(
        "--memory-days",
        type=int,
        metavar="N",
        help="override FINKRAFT_MEMORY_RETENTION_DAYS for this run (default: $FINKRAFT_MEMORY_RETENTION_DAYS, else 365)",
    )
    prune.set_defaults(func=_prune)
    watch = _parser("watch", "run every anomaly detector once and store the findings (for cron)", sub)
    watch.add_argument(
        "--workspace", action="append", help="only this workspace, repeatable (default: every workspace)"
    )
    watch.add_argument("--verbose", action="store_true", help="also print each detector's time")
    watch.set_defaults(func=_watch)
    token = _parser("token", "issue an API token for a user (printed once)", sub)
    token.add_argument("user_id", help="the user the token signs in as")
    token.add_argument("--label", default="cli", help="a name for the token (GET /admin/tokens lists it)")
    token.add_argument(
        "--expires",
        metavar="30d|12h",
        help="the token stops working after this many days (30d) or hours (12h) (default: never)",
    )
    token.set_defaults(func=_token)
    args = parser.parse_args(argv)
    from .logs import configure

    if args.command == "serve":
        args.log_config = configure(args.log_level, args.log_format)
    else:
        configure("info", "text")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""`finkraft serve`, `finkraft seed`, `finkraft token`."""
from __future__ import annotations

import argparse
import logging
import os
import sys


def _serve(args) -> int:
    import uvicorn
    os.environ.setdefault("LANGSMITH_TRACING", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.workers > 1:
        uvicorn.run("server.main:app", host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)
    else:
        from .app import create_app
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _seed(args) -> int:
    from business_data.db import make_engine
    from business_data.seed import seed
    from business_data.settings import get_settings
    from tools.rbac import ensure_demo_users

    from .auth import ensure_dev_tokens
    settings = get_settings()
    counts = seed(make_engine(settings.business_url), seed=settings.seed, reset=args.reset)
    app = make_engine(settings.app_url)
    ensure_demo_users(app)
    if settings.env == "dev":
        ensure_dev_tokens(app)
    if counts:
        print("Seeded demo data: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    else:
        print("Demo data already present (use --reset to regenerate it, dated from today).")
    return 0


def _token(args) -> int:
    from business_data.db import make_engine
    from business_data.settings import get_settings

    from .auth import issue_token
    try:
        _id, token = issue_token(make_engine(get_settings().app_url), args.user_id, args.label)
    except LookupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(token)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="finkraft", description="FinkraftAI: the finance-operations assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API (seeds the embedded databases on first start)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    seed = sub.add_parser("seed", help="create the demo data (dated relative to today)")
    seed.add_argument("--reset", action="store_true", help="delete and regenerate the demo business data")
    seed.set_defaults(func=_seed)
    token = sub.add_parser("token", help="issue an API token for a user (printed once)")
    token.add_argument("user_id")
    token.add_argument("--label", default="cli")
    token.set_defaults(func=_token)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""A larger Schemathesis run than the suite's (tests/contract): every operation of the
staff API, valid and invalid data, the stateful phase, authenticated, on SQLite or
(with --database-url) a scratch PostgreSQL database. Prints the report's summary and
exits non-zero on any failure (server error, answer breaking its own document,
invalid data accepted).

    .venv/bin/python bench/schemathesis.py --examples 100
    .venv/bin/python bench/schemathesis.py --postgres regroup_fuzz
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import recreate_pg  # noqa: E402
from tests.contract.api_server import live_api  # noqa: E402
from tests.contract.test_api_fuzzing import fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", default=None, metavar="NAME",
                        help="a scratch PostgreSQL database (dropped and made anew)")
    args = parser.parse_args()
    url = recreate_pg(args.postgres) if args.postgres else None
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, live_api(Path(folder), url) as (
            base, token):
        done = fuzz(base, token, examples=args.examples, seed=args.seed)
    report = done.stdout + done.stderr
    start = report.find("FAILURES") if "FAILURES" in report else report.find("SUMMARY")
    summary = report[start:] if start >= 0 else report[-4000:]
    print(summary.strip())
    print(f"\nschemathesis: {args.examples} examples per operation, "
          f"{time.monotonic() - started:.0f} s, exit {done.returncode}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())

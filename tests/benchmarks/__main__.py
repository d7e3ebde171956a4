"""`make bench`: time the main pages on generated data and print the figures.

Runs against a throwaway SQLite database (or BENCH_DATABASE_URL), never your own data.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def timed(fn, repeat: int = 20) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="charter-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    from charter import create_app
    from charter.extensions import db

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})

    from tests.benchmarks import scenarios

    with app.app_context():
        db.drop_all()
        db.create_all()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        chosen = set(sys.argv[1:])  # e.g. `python -m tests.benchmarks spreadsheet_uploads`
        for scenario in scenarios.ALL:
            if not chosen or scenario.__name__ in chosen:
                scenario(app, timed)
        db.session.remove()
        db.drop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())

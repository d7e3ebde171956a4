"""Time the expensive public documents over HTTP, as anonymous visitors see them.

    .venv/bin/python -m tests.benchmarks.documents [--data demo|large|both] [--dir DIR]

For each data set (the demo data, and the large set of `flask charter generate`) it builds
a SQLite database in DIR once (kept, so that a second run, e.g. before and after a change,
reuses it; `flask db upgrade` brings its schema up to date), starts gunicorn on it
(`-w 4`, as the README's production example) and measures, with a cold cache and then warm:

- /global.pdf, /sites/cambridge/overview.pdf, a signature certificate and /api/v1/bulk.zip,
  one at a time (cold: the first request after emptying the document cache; warm: the next);
- six concurrent anonymous requests of /global.pdf, cold and warm (wall time of all six).

Rate limiting is switched off for the run (RATELIMIT_ENABLED=false). Not a test: it prints
figures. On a shared machine they are noisy; compare runs made at the same time.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "CHARTER_CONFIG": "development", "RATELIMIT_ENABLED": "false",
                "FLASK_APP": "run.py"})
    return env


def prepare(kind: str, directory: Path) -> str:
    """The database of one data set, built once (schema upgraded on every run)."""
    path = directory / f"{kind}.sqlite3"
    url = f"sqlite:///{path}"
    fresh = not path.exists()
    subprocess.run([str(VENV_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=_env(url),  # noqa: S603
                   check=True, capture_output=True)
    if fresh:
        start = time.perf_counter()
        command = ["demo"] if kind == "demo" else ["generate"]
        subprocess.run([str(VENV_BIN / "flask"), "charter", *command],  # noqa: S603
                       cwd=ROOT, env=_env(url), check=True, capture_output=True)
        print(f"{kind}: data built in {time.perf_counter() - start:.0f} s ({path})")
    return url


def _sql(url: str, statement: str, *params) -> list:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(statement, params).fetchall()


def empty_cache(url: str) -> None:
    tables = {r[0] for r in _sql(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "cached_document" in tables:
        _sql(url, "DELETE FROM cached_document")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603
            [str(VENV_BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{self.port}", "--timeout", "300",
             "run:app"],
            cwd=ROOT, env=_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(self.base + "/healthz", timeout=30).read()  # noqa: S310
                    return
                except OSError:  # not listening yet (URLError, refused, timed out)
                    time.sleep(0.3)
            raise RuntimeError("gunicorn did not start")
        except BaseException:
            self.stop()
            raise

    def get(self, path: str) -> tuple[float, int, int]:
        start = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=300) as response:  # noqa: S310
            body = response.read()
            status = response.status
        return time.perf_counter() - start, status, len(body)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(kind: str, url: str) -> None:
    current = ("SELECT s.id FROM signature s WHERE NOT EXISTS (SELECT 1 FROM signature_withdrawal w "
               "WHERE w.signature_id = s.id) ORDER BY s.id LIMIT 1")
    signature_id = _sql(url, current)[0][0]
    documents = [("/global.pdf", "global PDF"), ("/sites/cambridge/overview.pdf", "site PDF"),
                 (f"/signatures/{signature_id}/certificate.pdf", "certificate"),
                 ("/api/v1/bulk.zip", "bulk ZIP")]
    empty_cache(url)
    server = Server(url)
    try:
        server.get("/")  # each worker imports lazily; warm one up before timing
        for path, label in documents:
            cold, status, size = server.get(path)
            warm, status2, _ = server.get(path)
            assert status == status2 == 200, (path, status, status2)
            print(f"{kind}: {label:12} {size / 1e6:6.2f} MB   cold {cold:6.2f} s   warm {warm:6.2f} s")
        for state in ("cold", "warm"):
            if state == "cold":
                empty_cache(url)
            start = time.perf_counter()
            with ThreadPoolExecutor(6) as pool:
                results = list(pool.map(lambda _i: server.get("/global.pdf"), range(6)))
            wall = time.perf_counter() - start
            assert all(status == 200 for _t, status, _s in results)
            slowest = max(t for t, _s, _n in results)
            print(f"{kind}: six concurrent /global.pdf, {state}: all done in {wall:.2f} s "
                  f"(slowest {slowest:.2f} s)")
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["demo", "large", "both"], default="both")
    default_dir = Path(tempfile.gettempdir()) / "charter-bench-documents"
    parser.add_argument("--dir", default=os.environ.get("BENCH_DOCUMENTS_DIR", str(default_dir)))
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    for kind in (["demo", "large"] if args.data == "both" else [args.data]):
        measure(kind, prepare(kind, directory))
    return 0


if __name__ == "__main__":
    sys.exit(main())

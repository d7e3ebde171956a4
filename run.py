"""Development entry point: `python run.py` serves at http://127.0.0.1:5000 and runs the task
queue's worker beside it (`flask charter worker`), which stops when the app stops.

Production runs `gunicorn 'run:app'` with CHARTER_CONFIG=production, and the worker as a
service of its own (`flask charter worker`): see README.md.
"""

import os
import subprocess
import sys
from pathlib import Path

from charter import create_app

# A PDF render process (charter.pdf: multiprocessing's forkserver) starts by importing this
# file again as __mp_main__; it needs no app of its own.
if __name__ != "__mp_main__":
    app = create_app()


def start_worker() -> subprocess.Popen | None:
    """The task worker, as a child that stops with this process (--stop-with-parent), or
    None when tasks run at once (TASK_QUEUE_IMMEDIATE) or RUN_WORKER=0 says not to."""
    if app.config.get("TASK_QUEUE_IMMEDIATE") or os.environ.get("RUN_WORKER", "1") == "0":
        return None
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":  # the reloader's child: its parent has one
        return None
    here = Path(__file__).resolve()
    return subprocess.Popen(  # noqa: S603 - our own command, no shell
        [sys.executable, "-m", "flask", "--app", str(here), "charter", "worker",
         "--stop-with-parent"], cwd=here.parent)


if __name__ == "__main__":
    worker = start_worker()
    try:
        app.run(
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "5000")),
            debug="--debug" in sys.argv,
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

"""The task queue: slow work off the request path (Huey).

Publishing a report (snapshot, charts, PDF, hash) and building the PROMISE Global and site
PDFs and the bulk ZIP take seconds; requests only ask for them, and a worker does them:

    flask charter worker          # `make run` starts it beside the app

Where the queue lives (TASK_QUEUE_URL, config.py): unset, a SQLite file in the instance
folder (no other server); `redis://…` (RedisHuey) or `postgresql://…` (PostgresHuey) in
production. With TASK_QUEUE_IMMEDIATE (the tests) a task runs at once, in the process that
sends it, with no queue at all.

- `enqueue_after_commit(task, *args)`: a service asks for a task that reads what it has just
  written. The task is sent when the session's transaction commits (the request's, in the
  after-request hook of charter/transaction.py, or a command's own commit), and dropped if
  it rolls back, so a worker never looks for a record that was not saved.
- A task runs in an app context and a request context of its own (a fresh database session,
  `g`, `url_for`), made from the worker's one app (created once per worker process) or, when
  run at once, from the app that sent it. `commit()` commits the task's work and delivers the
  mail it queued, as a request's hook does.
- A queue that cannot be reached (its storage is down) never fails the request that asked:
  the failure is logged, the person is told that the work is queued, and the records that
  ask for the work are still there for `resume` (run when the worker starts, then every
  minute) to send again.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, flash, g, has_app_context, has_request_context
from flask_babel import gettext as _
from huey import Huey, crontab
from huey.api import TaskWrapper
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR
from huey.storage import MemoryStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from charter import transaction
from charter.extensions import db

logger = logging.getLogger(__name__)

huey = Huey("charter", results=False, utc=True, storage_class=MemoryStorage)
_EXTENSION = "charter.tasks"
_PENDING = "charter.tasks.pending"
_worker_app: Flask | None = None


# --- the queue of an app --------------------------------------------------------------------

class _Queue:
    """An app's queue settings; its storage is made when first used (a queue that is down
    when the app starts must not stop the app)."""

    def __init__(self, app: Flask):
        self.url = app.config.get("TASK_QUEUE_URL") or ""
        self.immediate = bool(app.config.get("TASK_QUEUE_IMMEDIATE"))
        self.default_file = Path(app.instance_path) / "tasks.sqlite3"
        self._storage = None

    def storage(self):
        if self._storage is None:
            self._storage = MemoryStorage(huey.name) if self.immediate else _storage_for(
                self.url, self.default_file)
        return self._storage


def _storage_for(url: str, default_file: Path):
    if url.startswith(("redis://", "rediss://", "unix://")):
        from huey.storage import RedisStorage

        return RedisStorage(huey.name, url=url)
    if url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        from huey.storage import PostgresStorage

        dsn = "postgresql://" + url.split("://", 1)[1]
        return PostgresStorage(huey.name, dsn=dsn)
    from huey.storage import SqliteStorage

    filename = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else str(default_file)
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(huey.name, filename=filename)


def init_app(app: Flask) -> None:
    global _worker_app
    app.extensions[_EXTENSION] = _Queue(app)
    if _worker_app is None:
        _worker_app = app


def queue(app: Flask | None = None) -> Huey:
    """The Huey instance, pointed at `app`'s storage (one app per process outside tests)."""
    state: _Queue = (app or current_app).extensions[_EXTENSION]
    storage = state.storage()
    if huey.storage is not storage:
        huey._immediate = state.immediate  # without remaking storage: set just below
        huey.storage = storage
    return huey


def worker_app() -> Flask:
    """The app tasks run in: the one this process made (the worker's, created once)."""
    global _worker_app
    if _worker_app is None:
        from charter import create_app

        _worker_app = create_app()
    return _worker_app


def describe_queue(app: Flask) -> str:
    """Where the queue is, for people (no password)."""
    state: _Queue = app.extensions[_EXTENSION]
    if not state.url or state.url.startswith("sqlite"):
        return f"SQLite {state.url.removeprefix('sqlite:///') or state.default_file}"
    return state.url.split("://", 1)[0] + "://" + state.url.rsplit("@", 1)[-1].split("://")[-1]


def run_worker(app: Flask, workers: int | None = None, stop_with_parent: bool = False) -> None:
    """Consume the queue in this process until SIGINT or SIGTERM: `workers` threads, and the
    periodic tasks. With `stop_with_parent`, stop when the parent process ends (so the worker
    that `python run.py` starts never outlives the app)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="[%(asctime)s] %(levelname)s %(name)s: %(message)s")
    logging.getLogger("huey").setLevel(logging.INFO)
    if stop_with_parent:
        _watch_parent(os.getppid())
    consumer = queue(app).create_consumer(
        workers=workers or int(app.config["TASK_WORKERS"]), worker_type="thread", periodic=True,
        check_worker_health=True)
    _restart_after(int(app.config.get("TASK_WORKER_MAX_TASKS") or 0))
    consumer.run()


def _restart_after(max_tasks: int) -> Callable | None:
    """After `max_tasks` tasks (done or failed), restart the worker gracefully: Huey's
    SIGHUP lets running tasks end, then runs this same command again in this process
    (the same PID, so `run.py` and a service manager see no change)."""
    if max_tasks <= 0:
        return None
    # Huey restarts with `python *sys.argv`; `python -m flask …` has lost its `-m flask` there.
    sys.argv = list(sys.orig_argv[1:])
    done = iter(range(1, max_tasks + 1))

    @huey.signal(SIGNAL_COMPLETE, SIGNAL_ERROR)
    def _count(_signal, _task, *_args) -> None:
        if next(done, None) == max_tasks:  # once: tasks still ending do not ask again
            logger.info("%d tasks done: the worker restarts", max_tasks)
            os.kill(os.getpid(), signal.SIGHUP)

    return _count


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # the consumer stops gracefully

    threading.Thread(target=watch, name="charter-worker-parent-watch", daemon=True).start()


# --- sending ---------------------------------------------------------------------------------

def send(task: TaskWrapper, *args: Any, tell: bool = True) -> bool:
    """Send `task` now. False when the queue cannot take it: logged, and (with `tell`) the
    person who asked is told that it is queued."""
    app = current_app._get_current_object() if has_app_context() else worker_app()
    options = {}
    if task.task_class.default_retries:
        options = {"retries": int(app.config["TASK_RETRIES"]),
                   "retry_delay": int(app.config["TASK_RETRY_DELAY"])}
    try:
        queue(app).enqueue(task.s(*args, **options))
    except Exception:  # the queue is down: the work waits, the app goes on
        logger.exception("The task queue did not take %s%r; it is sent again when the worker "
                         "runs", task.name, args)
        if tell and has_request_context():
            flash(_("The task queue is not answering just now: this is queued, and will be "
                    "done as soon as the queue runs again."), "warning")
        return False
    return True


def enqueue_after_commit(task: TaskWrapper, *args: Any) -> None:
    """Send `task` once the current transaction commits; never if it rolls back."""
    db.session().info.setdefault(_PENDING, []).append((task, args))


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    for task, args in session.info.pop(_PENDING, ()):
        send(task, *args)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back: the transaction goes on
        return
    session.info.pop(_PENDING, None)


# --- running ---------------------------------------------------------------------------------

def _in_context(fn: Callable, *args: Any) -> None:
    """Run `fn` in contexts of its own: an app context and a request context (for `url_for`,
    templates and the mail outbox) with a fresh database session, `g` and teardown. They are
    pushed in an empty `contextvars` context, so a task run at once inside a request (or
    inside another task) neither shares nor tears down the surrounding ones."""
    app = current_app._get_current_object() if has_app_context() else worker_app()
    contextvars.Context().run(_run, app, fn, args)


def _run(app: Flask, fn: Callable, args: tuple) -> None:
    # Leaving the contexts ends the task's session (views_support's teardown rolls back
    # whatever a failed task left).
    with app.app_context(), app.test_request_context("/", base_url=app.config["SITE_URL"]):
        fn(*args)


def commit() -> None:
    """Commit a task's work, then deliver the mail it queued (as a request's hook does)."""
    from charter import mail

    db.session.commit()
    ids = g.pop("outbox_new_ids", None)
    if ids:
        try:
            mail.deliver(ids)
        except Exception:  # never fail a task over mail: `flask charter send-mail` retries
            logger.exception("outbox delivery failed")
            transaction.undo()


def task(*, retries: bool = False) -> Callable[[Callable], TaskWrapper]:
    """Declare a task: its function runs in contexts of its own (`_in_context`). With
    `retries`, a failure is tried again TASK_RETRIES times, TASK_RETRY_DELAY seconds apart."""

    def decorate(fn: Callable) -> TaskWrapper:
        @functools.wraps(fn)
        def run(*args: Any) -> None:
            _in_context(fn, *args)

        return huey.task(retries=1 if retries else 0, name=fn.__name__)(run)

    return decorate


def periodic(schedule) -> Callable[[Callable], Any]:
    def decorate(fn: Callable):
        @functools.wraps(fn)
        def run() -> None:
            _in_context(fn)

        return huey.periodic_task(schedule, name=fn.__name__)(run)

    return decorate


# --- the tasks -------------------------------------------------------------------------------

@task(retries=True)
def publish_report(request_id: int) -> None:
    """Freeze, render and store a requested publication (charter/reports/publishing.py)."""
    from charter.reports import publishing

    publishing.run(request_id)


@task()
def build_document(kind: str, args: list, locale: str, token: str) -> None:
    """Build a public document that a request found missing or stale (charter/documents.py)."""
    from charter import documents

    documents.build_claimed(kind, args, locale, token)


@task(retries=True)
def refresh_rollups(refs: dict) -> None:
    """Recompute the rollups of the sites a committed transaction changed
    (charter/dashboards/rollups.py; sent once per transaction by its flush hook)."""
    from charter.dashboards import rollups

    rollups.refresh_for(refs)


@periodic(crontab(minute="*/10"))
def refresh_all_rollups() -> None:
    """Recompute every site's rollups: a safety net for a change no hook saw."""
    from charter.dashboards import rollups

    rollups.refresh()


@periodic(crontab(minute="*"))
def resume() -> None:
    """Send again what a queue that was down, or a worker that died, left undone."""
    from charter.reports import publishing

    publishing.resume()


@periodic(crontab(minute="0", hour="7"))
def send_reminders() -> None:
    """The reminders of `flask charter remind`, every morning at 07:00 UTC."""
    from charter.reports.reminders import queue_reminders

    queue_reminders()
    commit()


@huey.on_startup()
def _resume_on_start() -> None:
    from charter.reports import publishing

    _in_context(publishing.resume, True)

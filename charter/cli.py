"""`flask charter …` commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from charter import audit, demo, mail
from charter.auth import sessions
from charter.dashboards import rollups
from charter.extensions import db
from charter.models import User
from charter.models.base import utcnow

charter_cli = AppGroup("charter", help="PROMISE Charter commands.")


@charter_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
def demo_command(if_empty: bool) -> None:
    """Load the demo data (five sites, domains, charters, organisations, users)."""
    if not demo.is_empty():
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        raise click.ClickException(
            "The database already has data. The demo loads only into an empty database "
            "(run `flask db downgrade base && flask db upgrade` to empty it)."
        )
    from charter.pdf import PdfRenderError

    try:
        counts = demo.load_demo()
    except PdfRenderError as exc:
        db.session.rollback()
        raise click.ClickException(
            f"A report's PDF could not be made ({exc.detail or exc}), so no demo data was "
            "loaded. PDF_RENDER_TIMEOUT sets the time limit in seconds.") from exc
    db.session.commit()
    click.echo(
        "Demo data loaded: "
        + ", ".join(f"{n} {what}" for what, n in counts.items())
        + f". Every demo account's password is {demo.DEMO_PASSWORD!r}; "
        "the admin is admin@example.org."
    )
    rollups.refresh()


@charter_cli.command("generate")
@click.option("--organisations", default=2_000, show_default=True)
@click.option("--commitments", default=40_000, show_default=True)
@click.option("--measurements", default=200_000, show_default=True)
def generate_command(organisations: int, commitments: int, measurements: int) -> None:
    """Build the large synthetic data set for benchmarks (empty database only)."""
    import time

    from charter.demo.generate import Sizes, generate, refresh_statistics

    if not demo.is_empty():
        raise click.ClickException("The database already has data; generate needs an empty one.")
    if min(organisations, commitments, measurements) < 1:
        raise click.BadParameter("Sizes must be at least 1.")
    start = time.perf_counter()
    counts = generate(Sizes(organisations, commitments, measurements))
    db.session.commit()
    refresh_statistics()
    rollups.refresh()  # bulk inserts: no flush hook saw them
    click.echo("Generated " + ", ".join(f"{n:,} {what}" for what, n in counts.items())
               + f" in {time.perf_counter() - start:.1f} s.")


@charter_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", "full_name", prompt="Full name")
@click.password_option(confirmation_prompt=True)
def create_admin(email: str, full_name: str, password: str) -> None:
    """Create an administrator, or make an existing user one."""
    from charter.auth.forms import PASSWORD_MIN

    email = User.normalise_email(email)
    if "@" not in email:
        raise click.BadParameter("That is not an email address.", param_hint="--email")
    if len(password) < PASSWORD_MIN:
        raise click.BadParameter(f"Use at least {PASSWORD_MIN} characters.",
                                 param_hint="--password")
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        # The operator vouches for the address they typed.
        user = User(email=email, full_name=full_name.strip() or email, is_admin=True,
                    email_verified_at=utcnow())
        user.set_password(password)
        db.session.add(user)
        audit.record(None, "user.created_admin", user)
        click.echo(f"Created administrator {email}.")
    else:
        changes = {"is_admin": [user.is_admin, True]}
        user.is_admin = True
        user.set_password(password)
        user.auth_epoch += 1
        audit.record(None, "user.made_admin", user, changes)
        sessions.end_all_sessions(None, user, reason="password_set_by_cli")
        click.echo(f"{email} is now an administrator; the password was updated.")
    db.session.commit()


@charter_cli.command("send-mail")
def send_mail() -> None:
    """Deliver queued outbox messages over SMTP (run it every few minutes from cron)."""
    if not mail.mail_configured():
        click.echo("MAIL_SERVER is not set: messages stay held in the outbox for admins to read.")
        return
    sent, failed = mail.deliver()
    click.echo(f"Sent {sent}, failed {failed}.")


@charter_cli.command("remind")
@click.option("--date", "on_date", default=None, metavar="YYYY-MM-DD",
              help="Pretend today is this date (for testing a schedule). Default: each site's today.")
def remind(on_date: str | None) -> None:
    """Queue reminders for reports due soon and overdue (safe to run repeatedly)."""
    from charter import readers
    from charter.reports.reminders import queue_reminders

    try:
        today = readers.read_date(on_date)
    except readers.ReadError as exc:
        raise click.BadParameter(
            f"Use the form YYYY-MM-DD, with a year from {readers.MIN_YEAR} to {readers.MAX_YEAR}.",
            param_hint="--date") from exc
    run = queue_reminders(today)
    db.session.commit()
    click.echo(f"Queued {run.queued} reminder(s); {run.skipped_already_sent} already sent before.")
    if mail.mail_configured() and run.queued:
        sent, failed = mail.deliver()
        click.echo(f"Sent {sent}, failed {failed}.")


@charter_cli.command("purge-join-requests")
def purge_join_requests() -> None:
    """Delete applications whose email address was not confirmed in time (run daily from
    cron; each new application also clears some)."""
    from charter.organisations.joining import purge_expired

    total = 0
    while (deleted := purge_expired()):
        total += deleted
    db.session.commit()
    click.echo(f"Deleted {total} expired join request(s).")


@charter_cli.command("prune-sessions")
@click.option("--older-than-days", default=0, show_default=True, type=click.IntRange(min=0),
              help="Keep the records of sessions that ended fewer days ago than this.")
def prune_sessions(older_than_days: int) -> None:
    """Delete the records of sessions that have ended (signed out or expired); run it daily."""
    from datetime import timedelta

    deleted = sessions.delete_ended_sessions(timedelta(days=older_than_days))
    db.session.commit()
    click.echo(f"Deleted {deleted} ended session(s).")


@charter_cli.command("rollups")
def rollups_command() -> None:
    """Recompute the rollups behind PROMISE Global and the site dashboards, for every site
    (the worker keeps them current; this rebuilds them by hand)."""
    import time

    start = time.perf_counter()
    rollups.refresh()
    click.echo(f"Rollups recomputed in {time.perf_counter() - start:.2f} s.")


@charter_cli.command("forget-documents")
def forget_documents() -> None:
    """Drop the kept copies of the public PDFs, certificates and bulk ZIP (after an upgrade
    that changes how they look); each is built again when it is next asked for."""
    from charter import documents

    documents.forget()
    click.echo("Kept documents dropped: each is built again when it is next asked for.")


@charter_cli.command("worker")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Tasks run at the same time (threads). Default: TASK_WORKERS.")
@click.option("--stop-with-parent", is_flag=True,
              help="Stop when the process that started this one ends (`python run.py`).")
def worker(workers: int | None, stop_with_parent: bool) -> None:
    """Run the task queue's worker: publishing, the Global, site and bulk downloads, and the
    daily reminders. Runs until stopped (Ctrl-C or SIGTERM, which lets running tasks end)."""
    from flask import current_app

    from charter import tasks

    if current_app.config.get("TASK_QUEUE_IMMEDIATE"):
        raise click.ClickException("TASK_QUEUE_IMMEDIATE is set: tasks run at once where they "
                                   "are sent, and there is no queue to work on.")
    click.echo(f"Task worker on {tasks.describe_queue(current_app)}; stop it with Ctrl-C.")
    tasks.run_worker(current_app._get_current_object(), workers, stop_with_parent)


def init_app(app: Flask) -> None:
    app.cli.add_command(charter_cli)

"""`flask charter …` commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from charter import audit, demo, mail
from charter.extensions import db
from charter.models import User

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
        user = User(email=email, full_name=full_name.strip() or email, is_admin=True)
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
    from datetime import date

    from charter.reports.reminders import queue_reminders

    today = None
    if on_date:
        try:
            today = date.fromisoformat(on_date)
        except ValueError as exc:
            raise click.BadParameter("Use the form YYYY-MM-DD.", param_hint="--date") from exc
    run = queue_reminders(today)
    db.session.commit()
    click.echo(f"Queued {run.queued} reminder(s); {run.skipped_already_sent} already sent before.")
    if mail.mail_configured() and run.queued:
        sent, failed = mail.deliver()
        click.echo(f"Sent {sent}, failed {failed}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(charter_cli)

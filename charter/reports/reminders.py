"""Reminders for reports: due soon, and overdue.

`queue_reminders(today)` queues an outbox message to each lead of every organisation that
owes a report in a cycle whose reminder window contains `today`:
- "due": from `reminder_days_before` days before the due date up to the due date;
- "overdue": after the due date, up to `reminder_days_after` days after it.
Each (kind, cycle, organisation, recipient) is queued once, ever (the outbox's dedupe
key), so running it twice a day — or every hour — sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from charter import audit, mail
from charter.extensions import db
from charter.models import ReportingCycle, ReportingStatus, Site
from charter.organisations.services import organisation_leads
from charter.readers import shift_days
from charter.reports import status
from charter.urls import external_url


@dataclass
class ReminderRun:
    queued: int = 0
    skipped_already_sent: int = 0


def _kind(cycle: ReportingCycle, today: date) -> str | None:
    # shift_days stops at the ends of the calendar: a cycle stored with a due date in the
    # year 1 or 9999 (before dates were read the one way) must not stop the daily job.
    if shift_days(cycle.due_date, -cycle.reminder_days_before) <= today <= cycle.due_date:
        return "due"
    if cycle.due_date < today <= shift_days(cycle.due_date, cycle.reminder_days_after):
        return "overdue"
    return None


def queue_reminders(today: date | None = None) -> ReminderRun:
    run = ReminderRun()
    for site in db.session.scalars(select(Site).order_by(Site.id)):
        reporting = status.site_reporting(site)
        day = today or reporting.today
        for cycle in reporting.cycles:
            kind = _kind(cycle, day)
            if kind is None:
                continue
            for org in reporting.organisations:
                st = reporting.status(org, cycle)
                if st in (ReportingStatus.PUBLISHED, ReportingStatus.EXEMPT,
                          ReportingStatus.SUBMITTED):
                    continue
                facts = reporting.reports.get((org.id, cycle.id))
                link = (external_url("reports.edit", report_id=facts.report_id) if facts
                        else external_url("reports.organisation_reports", slug=org.slug))
                for lead in organisation_leads(org):
                    subject = (_("Your %(cycle)s report is due on %(date)s", cycle=cycle.name,
                                 date=cycle.due_date.isoformat()) if kind == "due"
                               else _("Your %(cycle)s report is overdue", cycle=cycle.name))
                    message = mail.queue(
                        lead.email, subject,
                        render_template("email/report_reminder.txt", kind=kind, cycle=cycle,
                                        org=org, lead=lead, link=link, status=st),
                        kind=f"report_reminder_{kind}", user=lead,
                        dedupe_key=f"report-reminder:{kind}:{cycle.id}:{org.id}:{lead.id}",
                    )
                    if message is None:
                        run.skipped_already_sent += 1
                    else:
                        run.queued += 1
                        audit.record(None, f"report.reminder_{kind}", org,
                                     {"cycle": cycle.name, "to": lead.email})
    return run

"""Joining without an account: the request, the emailed confirmation, and expiry.

The public join form answers the same way ("check your email") whatever the address and
the organisation's name turn out to be, so it tells nobody who has an account or which
organisations have applied or were declined. What happened goes to the mailbox instead:

- a new address gets a link to confirm it (a `JoinRequest` holds the application until
  then: no account, no organisation, nothing for the coordinators);
- an address that already has an account gets a note saying so, and nothing is created;
- a name already taken by an application that is pending or was declined (which the
  public may not know about) gets a note explaining that, and nothing is created.

Only a clash with an organisation the public can see anyway (one that takes part in the
charter, or withdrew) is said beside the field.

Following the link (and pressing the button on the page it opens: mail scanners that
open links do not confirm anything) creates the account with its address verified,
creates the pending organisation with the person as its lead, and tells the site's
coordinators, once. The link is signed, names one request, works once, and expires with
the request after `JOIN_CONFIRMATION_MAX_AGE` (48 hours by default). Expired requests
are deleted by `purge_expired`, which each new request runs and
`flask charter purge-join-requests` runs too.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from charter import audit, mail, transaction
from charter.extensions import db
from charter.models import JoinRequest, Organisation, OutboxMessage, Site, User
from charter.models.base import utcnow
from charter.organisations import services
from charter.organisations.services import AccountDetails, OrganisationDetails, OrganisationError
from charter.tokens import TokenError, make_token, read_token
from charter.urls import external_url

PURPOSE = "join-confirmation"
# The kinds of email one join request may cause; JOIN_EMAILS_PER_ADDRESS_PER_DAY counts them.
EMAIL_KINDS = ("join_confirmation", "join_address_has_account", "join_name_taken")
PURGE_BATCH = 200

# Who the audit log names for a request made on the public form.
PUBLIC = AnonymousUserMixin()

PROBLEMS = {
    "invalid": _l("This link is not valid. It may have been copied incompletely: open it "
                  "from the email again."),
    "expired": _l("This link has expired, and the application it was for has been deleted. "
                  "Nothing was sent to the coordinators. Please apply again."),
    "used": _l("This link has already been used: the address is confirmed and the "
               "application went to the site's coordinators. Sign in to follow it."),
}
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410}


def max_age() -> int:
    return int(current_app.config["JOIN_CONFIRMATION_MAX_AGE"])


def max_age_hours() -> int:
    return max(1, max_age() // 3600)


# --- the public form ------------------------------------------------------------------

def request_to_join(site: Site, details: OrganisationDetails, account: AccountDetails) -> str:
    """Handle the join form of someone who is not signed in. Returns the (normalised)
    address that the page says it wrote to; the page is the same in every case.

    Raises OrganisationError only for what the form may say beside a field: a name with no
    letter or digit, or the name of an organisation the public can see.
    """
    email = User.normalise_email(account.email)
    purge_expired()
    hidden_clash = services.check_name(site, details.name, reveal_hidden=False)
    # Every branch below costs one password hash, so that the time taken to answer does
    # not tell which one ran.
    if not _may_email(email):
        User.spend_equal_time(account.password)
    elif hidden_clash is not None:
        User.spend_equal_time(account.password)
        _tell_name_taken(email, site, details, hidden_clash)
    elif (user := services.find_account(email)) is not None:
        User.spend_equal_time(account.password)
        _tell_address_has_account(user, site, details)
    else:
        _new_request(email, site, details, account)
    return email


def _may_email(email: str) -> bool:
    """At most JOIN_EMAILS_PER_ADDRESS_PER_DAY joining emails to one address a day: the
    form must not become a way to flood someone's mailbox from many connections."""
    since = utcnow() - timedelta(days=1)
    sent = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_address == email, OutboxMessage.kind.in_(EMAIL_KINDS),
            OutboxMessage.created_at > since)
    )
    return sent < current_app.config["JOIN_EMAILS_PER_ADDRESS_PER_DAY"]


def _new_request(email: str, site: Site, details: OrganisationDetails,
                 account: AccountDetails) -> JoinRequest:
    now = utcnow()
    request = JoinRequest(
        created_at=now,
        nonce=secrets.token_urlsafe(24),
        site=site,
        email=email,
        full_name=account.full_name.strip(),
        job_title=(account.job_title or "").strip(),
        organisation_name=details.name.strip(),
        sector=details.sector,
        tier=details.tier,
        website=details.website or None,
        description=details.description or "",
        expires_at=now + timedelta(seconds=max_age()),
    )
    request.set_password(account.password)
    db.session.add(request)
    db.session.flush()
    audit.record(PUBLIC, "organisation.join_requested", request, {
        "email": email, "organisation_name": request.organisation_name,
        "expires_at": request.expires_at,
    })
    link = external_url("organisations.confirm_join", token=token_for(request))
    mail.queue(
        email,
        _("Confirm your email address to apply to the %(site)s PROMISE charter", site=site.name),
        render_template("email/join_confirm.txt", request=request, site=site, link=link,
                        hours=max_age_hours()),
        kind="join_confirmation",
    )
    return request


def _tell_address_has_account(user: User, site: Site, details: OrganisationDetails) -> None:
    audit.record(PUBLIC, "organisation.join_refused_existing_account", user,
                 {"organisation_name": details.name.strip()}, site_id=site.id)
    mail.queue(
        user.email,
        _("Your application to the %(site)s PROMISE charter", site=site.name),
        render_template(
            "email/join_address_has_account.txt", user=user, site=site,
            organisation_name=details.name.strip(),
            login_link=external_url("auth.login", next=_path(
                external_url("organisations.join", site=site.slug))),
            reset_link=external_url("auth.forgot_password"),
        ),
        kind="join_address_has_account",
        user=user,
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _tell_name_taken(email: str, site: Site, details: OrganisationDetails,
                     existing: Organisation) -> None:
    audit.record(PUBLIC, "organisation.join_refused_name_taken", site,
                 {"email": email, "organisation_name": details.name.strip(),
                  "existing_organisation_id": existing.id})
    mail.queue(
        email,
        _("Your application to the %(site)s PROMISE charter", site=site.name),
        render_template("email/join_name_taken.txt", site=site, email=email,
                        organisation_name=details.name.strip(),
                        reason=services.duplicate_message(existing)),
        kind="join_name_taken",
    )


# --- the emailed link -------------------------------------------------------------------

def token_for(request: JoinRequest) -> str:
    return make_token(PURPOSE, {"j": request.id, "n": request.nonce})


@dataclass
class JoinCheck:
    request: JoinRequest | None
    problem: str | None  # 'invalid', 'expired' or 'used'

    @property
    def message(self) -> str | None:
        return str(PROBLEMS[self.problem]) if self.problem else None

    @property
    def status(self) -> int:
        return PROBLEM_STATUS.get(self.problem, 200) if self.problem else 200


def check(token: str) -> JoinCheck:
    """The join request a link names, or why the link cannot be used."""
    try:
        data = read_token(PURPOSE, token, max_age())
    except TokenError as exc:
        return JoinCheck(None, exc.reason)
    if (not isinstance(data, dict) or not isinstance(data.get("j"), int)
            or not isinstance(data.get("n"), str)):
        return JoinCheck(None, "invalid")
    request = db.session.get(JoinRequest, data["j"])
    if request is None:
        return JoinCheck(None, "expired")  # deleted: only expired requests are
    if not hmac.compare_digest(request.nonce, data["n"]):
        return JoinCheck(None, "invalid")
    if request.confirmed_at is not None:
        return JoinCheck(request, "used")
    if request.expires_at <= utcnow():
        return JoinCheck(request, "expired")
    return JoinCheck(request, None)


@dataclass
class Confirmation:
    user: User
    new_account: bool  # the account was made now (False: the address had one already)
    organisation: Organisation | None  # None: the name was taken meanwhile (see `refused`)
    refused: str | None = None


def confirm(token: str) -> Confirmation:
    """Follow the link: verify the address, make the account and the pending
    organisation, and tell the coordinators. A second use of the link changes nothing; the
    same link submitted twice at the same moment: the one that loses is told it was used."""
    with transaction.refusing_duplicates(
            lambda: OrganisationError(str(PROBLEMS["used"]), status=410)):
        confirmation = _confirm(token)
        db.session.flush()
    return confirmation


def _confirm(token: str) -> Confirmation:
    result = check(token)
    if result.problem:
        raise OrganisationError(result.message, status=result.status)
    request = db.session.scalar(
        select(JoinRequest).where(JoinRequest.id == result.request.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if request is None or request.confirmed_at is not None:
        # Another submission of the same link got there first.
        raise OrganisationError(str(PROBLEMS["used"]), status=410)
    now = utcnow()
    user = services.find_account(request.email)
    new_account = user is None
    if new_account:
        # Someone may have made an account with this address since the request (an
        # invitation, say); then it leads the application, and keeps its own password.
        user = User(email=request.email, full_name=request.full_name,
                    job_title=request.job_title, password_hash=request.password_hash,
                    email_verified_at=now)
        db.session.add(user)
        db.session.flush()
        audit.record(user, "user.registered", user, {"email": user.email, "via": "join request"})
    elif user.email_verified_at is None:
        user.mark_email_verified(now)
        audit.record(user, "user.email_verified", user, {"via": "join request"})
    request.confirmed_at = now
    request.password_hash = ""
    request.user_id = user.id
    audit.record(user, "organisation.join_confirmed", request, {"confirmed_at": now})
    existing = services.find_duplicate(request.site, request.organisation_name)
    if existing is not None:
        # Someone applied (and confirmed) with this name meanwhile. The person has shown
        # the address is theirs; they are told what the email would have told them.
        return Confirmation(user, new_account, None, services.duplicate_message(existing))
    organisation = services.create_application(user, request.site, OrganisationDetails(
        name=request.organisation_name, sector=request.sector, tier=request.tier,
        website=request.website, description=request.description))
    request.organisation_id = organisation.id
    return Confirmation(user, new_account, organisation)


# --- expiry -------------------------------------------------------------------------------

def purge_expired(limit: int = PURGE_BATCH) -> int:
    """Delete join requests past their expiry (at most `limit` at a time). Unconfirmed ones
    are recorded in the audit log as expired; confirmed ones have done their work."""
    expired = db.session.scalars(
        select(JoinRequest).where(JoinRequest.expires_at <= utcnow())
        .order_by(JoinRequest.expires_at).limit(limit)
    ).all()
    for request in expired:
        if request.confirmed_at is None:
            audit.record(None, "organisation.join_request_expired", request,
                         {"email": request.email, "organisation_name": request.organisation_name})
        db.session.delete(request)
    if expired:
        db.session.flush()
    return len(expired)

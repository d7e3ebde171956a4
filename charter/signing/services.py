"""Signing the charter, withdrawing a signature, verifying a code, and the certificate.

Services take plain values and model objects, check permissions again through
`charter.permissions`, change data, record the audit event and flush; the request layer
commits (charter.transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from charter import audit, formatting, mail, permissions, transaction
from charter.extensions import db
from charter.models import (
    CharterStatus,
    CharterVersion,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    SignatureState,
    SiteCoordinator,
    User,
)
from charter.models.base import utcnow
from charter.models.charter import (
    _CODE_ALPHABET,
    Signature,
    SignatureWithdrawal,
    new_verification_code,
    normalise_verification_code,
)
from charter.rules import RuleError
from charter.signing import queries
from charter.urls import external_url

NAME_MAX = 120
REASON_MAX = 2000
CODE_INPUT_MAX = 64  # anything longer is not a code; it is not even looked at


# --- errors -----------------------------------------------------------------------------

class SigningError(RuleError):
    """A rule refused the request. `field` names the form field the message belongs to;
    `status` (409 unless the class says otherwise) is what the page answers with."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field, status=type(self).status)


class InvalidSignatureInput(SigningError):  # noqa: N818
    status = 400


class NoOpenVersion(SigningError):  # noqa: N818
    """The site has no charter version open for signature."""


class VersionChanged(SigningError):  # noqa: N818
    """The version the person read is no longer the open one."""

    def __init__(self, message: str, current: CharterVersion):
        super().__init__(message, "version_id")
        self.current = current


class AlreadySigned(SigningError):  # noqa: N818
    def __init__(self, message: str, signature: Signature):
        super().__init__(message)
        self.signature = signature


class AlreadyWithdrawn(SigningError):  # noqa: N818
    def __init__(self, message: str, withdrawal: SignatureWithdrawal | None):
        super().__init__(message)
        self.withdrawal = withdrawal


# --- messages shared by pages and services ------------------------------------------------

def authority_statement(organisation: Organisation) -> str:
    """The sentence a signer confirms; stored, word for word, on the signature."""
    return _("I have the authority to sign on behalf of %(name)s", name=organisation.name)


def already_signed_message(signature: Signature) -> str:
    site = signature.organisation.site
    return _("%(name)s signed version %(number)d on %(date)s.",
             name=signature.organisation.name, number=signature.charter_version.number,
             date=formatting.local_date(signature.signed_at, site))


def version_changed_message(current: CharterVersion) -> str:
    return _("The charter changed while you were reading it. Read version %(number)d and sign "
             "again.", number=current.number)


def no_open_version_message(organisation: Organisation) -> str:
    return _("The %(site)s charter has no version open for signature at the moment. The site's "
             "coordinators open a version when it is ready.", site=organisation.site.name)


def cannot_sign_message(user, organisation: Organisation) -> str:
    """Why `user` may not sign for `organisation` (for a 403 page)."""
    if not permissions.is_lead(user, organisation):
        return _("Only a lead of %(name)s can sign the charter for it.", name=organisation.name)
    if organisation.status == OrganisationStatus.PENDING:
        return _("%(name)s is waiting for a coordinator of %(site)s to approve it. You can sign "
                 "once it is approved.", name=organisation.name, site=organisation.site.name)
    if organisation.status == OrganisationStatus.DECLINED:
        return _("The application of %(name)s was declined, so it cannot sign the charter.",
                 name=organisation.name)
    if organisation.status == OrganisationStatus.WITHDRAWN:
        return _("%(name)s has withdrawn from the charter. Ask a coordinator of %(site)s to "
                 "reinstate it before signing again.", name=organisation.name,
                 site=organisation.site.name)
    return _("You cannot sign the charter for %(name)s.", name=organisation.name)


# --- reading ------------------------------------------------------------------------------

def _signature_options():
    return (
        joinedload(Signature.organisation).joinedload(Organisation.site),
        joinedload(Signature.charter_version),
        joinedload(Signature.withdrawal).joinedload(SignatureWithdrawal.withdrawn_by),
    )


def get_signature(signature_id: int) -> Signature | None:
    """A signature with what its pages show, in one query."""
    return db.session.scalar(
        select(Signature).where(Signature.id == signature_id).options(*_signature_options())
    )


def existing_signature(organisation: Organisation, version: CharterVersion) -> Signature | None:
    return db.session.scalar(
        select(Signature)
        .where(Signature.organisation_id == organisation.id,
               Signature.charter_version_id == version.id)
        .options(*_signature_options())
    )


def previous_signature(organisation: Organisation, open_version: CharterVersion | None):
    """The organisation's newest current signature of an earlier version than the open one
    (what re-affirming replaces), or None."""
    if open_version is None:
        return None
    status = queries.signing_status(organisation)
    latest = status.latest
    if latest is not None and latest.charter_version.number < open_version.number:
        return latest
    return None


@dataclass
class Verification:
    state: SignatureState
    code: str  # normalised, or "" when the input was not a code at all
    signature: Signature | None = None


def clean_code(raw: str | None) -> str:
    """The canonical form of a typed code ('PRM-7KQ2-9XHD-M4TB'), or '' if it is not one."""
    raw = raw or ""
    if len(raw) > CODE_INPUT_MAX:
        return ""
    code = normalise_verification_code(raw)
    if not code or any(c not in _CODE_ALPHABET for c in code[4:].replace("-", "")):
        return ""
    return code


def verify(raw_code: str | None) -> Verification:
    """What /verify/<code> says: valid, withdrawn or unknown. Never fails on junk input."""
    code = clean_code(raw_code)
    if not code:
        return Verification(SignatureState.UNKNOWN, "")
    signature = db.session.scalar(
        select(Signature).where(Signature.verification_code == code).options(*_signature_options())
    )
    if signature is None:
        return Verification(SignatureState.UNKNOWN, code)
    state = SignatureState.WITHDRAWN if signature.withdrawal else SignatureState.VALID
    return Verification(state, code, signature)


# --- signing ------------------------------------------------------------------------------

@dataclass
class SignatureDetails:
    """What the signer typed (already stripped by the form)."""

    version_id: int | None
    signer_name: str
    signer_job_title: str
    co_signatory_name: str | None = None
    co_signatory_role: str | None = None
    confirmed_authority: bool = False


def _check_details(organisation: Organisation, details: SignatureDetails) -> None:
    if not details.confirmed_authority:
        raise InvalidSignatureInput(
            _("Confirm that you have the authority to sign on behalf of %(name)s.",
              name=organisation.name), "authority")
    for field, value, empty in (
        ("signer_name", details.signer_name, _("Enter your full name.")),
        ("signer_job_title", details.signer_job_title, _("Enter your job title.")),
    ):
        if not (value or "").strip():
            raise InvalidSignatureInput(empty, field)
        if len(value) > NAME_MAX:
            raise InvalidSignatureInput(_("Use %(max)d characters or fewer.", max=NAME_MAX), field)
    name = (details.co_signatory_name or "").strip()
    role = (details.co_signatory_role or "").strip()
    if name and not role:
        raise InvalidSignatureInput(
            _("Enter the co-signatory's role too, or leave both co-signatory fields empty."),
            "co_signatory_role")
    if role and not name:
        raise InvalidSignatureInput(
            _("Enter the co-signatory's name too, or leave both co-signatory fields empty."),
            "co_signatory_name")
    for field, value in (("co_signatory_name", name), ("co_signatory_role", role)):
        if len(value) > NAME_MAX:
            raise InvalidSignatureInput(_("Use %(max)d characters or fewer.", max=NAME_MAX), field)


def _version_to_sign(organisation: Organisation, version_id: int | None) -> CharterVersion:
    """The version the person read, if it is still the site's open one. The row is locked
    for sharing (PostgreSQL) so that it cannot be superseded before this commits."""
    version = None
    if isinstance(version_id, int):
        version = db.session.scalar(
            select(CharterVersion)
            .where(CharterVersion.id == version_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    if (
        version is not None
        and version.site_id == organisation.site_id
        and version.status == CharterStatus.OPEN
    ):
        return version
    current = queries.open_version(organisation.site_id)
    if current is None:
        raise NoOpenVersion(no_open_version_message(organisation))
    raise VersionChanged(version_changed_message(current), current)


def sign(actor: User, organisation: Organisation, details: SignatureDetails) -> Signature:
    """`actor` signs the open charter version for `organisation`.

    Refused: someone who is not a lead, an organisation that is not active, a version
    that is no longer open, no open version, a version the organisation already signed
    (checked first, and backed by the unique constraint for two signings at once).
    """
    permissions.require(permissions.can_sign(actor, organisation),
                        cannot_sign_message(actor, organisation))
    _check_details(organisation, details)
    version = _version_to_sign(organisation, details.version_id)
    existing = existing_signature(organisation, version)
    if existing is not None:
        raise AlreadySigned(already_signed_message(existing), existing)
    previous = previous_signature(organisation, version)

    co_name = (details.co_signatory_name or "").strip() or None
    co_role = (details.co_signatory_role or "").strip() or None
    signature = Signature(
        organisation=organisation,
        charter_version=version,
        signer=actor,
        signer_name=details.signer_name.strip(),
        signer_job_title=details.signer_job_title.strip(),
        authority_statement=authority_statement(organisation),
        co_signatory_name=co_name,
        co_signatory_role=co_role if co_name else None,
        signed_at=utcnow(),
        text_sha256=version.body_sha256,
        verification_code=new_verification_code(),
    )
    db.session.add(signature)
    _flush_signature(organisation, version)

    changes = {
        "charter_version": version.number,
        "text_sha256": version.body_sha256,
        "signer_name": signature.signer_name,
        "signer_job_title": signature.signer_job_title,
        "co_signatory_name": signature.co_signatory_name,
        "co_signatory_role": signature.co_signatory_role,
        "verification_code": signature.verification_code,
    }
    if previous is not None:
        changes["reaffirms_version"] = previous.charter_version.number
    audit.record(actor, "signature.reaffirmed" if previous else "signature.created", signature,
                 changes, site_id=organisation.site_id, organisation_id=organisation.id)
    _notify_signed(actor, signature, previous)
    return signature


def _flush_signature(organisation: Organisation, version: CharterVersion) -> None:
    """Flush the new signature. Two signings at once: the second hits the unique
    constraint; its work is rolled back (nothing half saved) and it is told who won."""
    org_id, version_id = organisation.id, version.id

    def explain() -> AlreadySigned | None:
        existing = db.session.scalar(
            select(Signature)
            .where(Signature.organisation_id == org_id, Signature.charter_version_id == version_id)
            .options(*_signature_options())
        )
        return None if existing is None else AlreadySigned(already_signed_message(existing),
                                                             existing)

    with transaction.refusing_duplicates(explain):
        db.session.flush()


def site_coordinators(site_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(SiteCoordinator, SiteCoordinator.user_id == User.id)
        .where(SiteCoordinator.site_id == site_id, User.active)
        .order_by(User.full_name, User.id)
    ))


def organisation_leads(organisation_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.role == MemberRole.LEAD,
               User.active)
        .order_by(User.full_name, User.id)
    ))


def _links(signature: Signature) -> dict[str, str]:
    return {
        "signature_url": external_url("signing.signed", signature_id=signature.id),
        "certificate_url": external_url("signing.certificate", signature_id=signature.id),
        "verify_url": external_url("signing.verify", code=signature.verification_code),
    }


def _notify_signed(actor: User, signature: Signature, previous: Signature | None) -> None:
    org = signature.organisation
    site = org.site
    context = {"signature": signature, "organisation": org, "site": site,
               "version": signature.charter_version, "previous": previous,
               "signed_at": formatting.local_datetime(signature.signed_at, site), **_links(signature)}
    mail.queue(
        actor.email,
        _("%(name)s has signed the %(site)s charter", name=org.name, site=site.name),
        render_template("email/signature_signed.txt", recipient=actor, **context),
        kind="signature_signed",
        user=actor,
    )
    for coordinator in site_coordinators(site.id):
        if coordinator.id == actor.id:
            continue
        mail.queue(
            coordinator.email,
            _("New signature of the %(site)s charter: %(name)s", site=site.name, name=org.name),
            render_template("email/signature_signed_coordinator.txt", recipient=coordinator,
                            **context),
            kind="signature_signed_coordinator",
            user=coordinator,
        )


# --- withdrawal ---------------------------------------------------------------------------

def already_withdrawn_message(signature: Signature) -> str:
    withdrawal = signature.withdrawal
    when = formatting.local_date(withdrawal.withdrawn_at, signature.organisation.site) if withdrawal else ""
    return _("This signature was already withdrawn on %(date)s. Nothing was changed.", date=when)


def withdraw(actor: User, signature: Signature, reason: str) -> SignatureWithdrawal:
    """Withdraw `signature` with a reason. The signature stays on record; if the
    organisation then holds no current signature, its status becomes withdrawn."""
    permissions.require(
        permissions.can_withdraw_signature(actor, signature),
        _("Only a lead of %(name)s or a coordinator of its site can withdraw its signature.",
          name=signature.organisation.name),
    )
    if signature.withdrawal is not None:
        raise AlreadyWithdrawn(already_withdrawn_message(signature), signature.withdrawal)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidSignatureInput(_("Enter the reason for withdrawing."), "reason")
    if len(reason) > REASON_MAX:
        raise InvalidSignatureInput(_("Use %(max)d characters or fewer.", max=REASON_MAX), "reason")

    organisation = signature.organisation
    withdrawal = SignatureWithdrawal(signature=signature, withdrawn_by=actor, reason=reason,
                                     withdrawn_at=utcnow())
    db.session.add(withdrawal)
    signature_id = signature.id

    def withdrawn_meanwhile() -> AlreadyWithdrawn:
        # Withdrawn by someone else at the same moment: the unique constraint on
        # signature_id refuses the second; nothing of this request is kept.
        current = get_signature(signature_id)
        return AlreadyWithdrawn(already_withdrawn_message(current), current.withdrawal)

    with transaction.refusing_duplicates(withdrawn_meanwhile):
        db.session.flush()

    audit.record(actor, "signature.withdrawn", signature,
                 {"reason": reason, "withdrawn_at": withdrawal.withdrawn_at,
                  "charter_version": signature.charter_version.number},
                 site_id=organisation.site_id, organisation_id=organisation.id)

    still_signed = db.session.scalar(
        select(exists().where(Signature.organisation_id == organisation.id, queries.not_withdrawn()))
    )
    if not still_signed and organisation.status == OrganisationStatus.ACTIVE:
        changes = audit.apply_changes(organisation, {"status": OrganisationStatus.WITHDRAWN})
        audit.record(actor, "organisation.withdrawn", organisation, changes)
    _notify_withdrawn(actor, signature, withdrawal, organisation_left=not still_signed)
    return withdrawal


def _notify_withdrawn(actor: User, signature: Signature, withdrawal: SignatureWithdrawal,
                      organisation_left: bool) -> None:
    org = signature.organisation
    site = org.site
    recipients: dict[int, User] = {}
    for user in [*organisation_leads(org.id), *site_coordinators(site.id)]:
        recipients.setdefault(user.id, user)
    context = {"signature": signature, "withdrawal": withdrawal, "organisation": org, "site": site,
               "version": signature.charter_version, "actor": actor,
               "organisation_left": organisation_left,
               "withdrawn_at": formatting.local_datetime(withdrawal.withdrawn_at, site),
               **_links(signature)}
    for user in recipients.values():
        mail.queue(
            user.email,
            _("%(name)s's signature of the %(site)s charter was withdrawn", name=org.name,
              site=site.name),
            render_template("email/signature_withdrawn.txt", recipient=user, **context),
            kind="signature_withdrawn",
            user=user,
        )


# --- certificate --------------------------------------------------------------------------

def certificate_context(signature: Signature) -> dict:
    """Plain values for templates/pdf/certificate.html."""
    org = signature.organisation
    site = org.site
    version = signature.charter_version
    withdrawal = signature.withdrawal
    return {
        "organisation_name": org.name,
        "site_name": site.name,
        "version_number": version.number,
        "version_title": version.title,
        "signer_name": signature.signer_name,
        "signer_job_title": signature.signer_job_title,
        "co_signatory_name": signature.co_signatory_name or "",
        "co_signatory_role": signature.co_signatory_role or "",
        "authority_statement": signature.authority_statement,
        "signed_date": formatting.local_date(signature.signed_at, site),
        "signed_datetime": formatting.local_datetime(signature.signed_at, site),
        "text_sha256": signature.text_sha256,
        "verification_code": signature.verification_code,
        "verify_url": external_url("signing.verify", code=signature.verification_code),
        "withdrawn": withdrawal is not None,
        "withdrawn_date": formatting.local_date(withdrawal.withdrawn_at, site) if withdrawal else "",
        "withdrawn_datetime": (formatting.local_datetime(withdrawal.withdrawn_at, site)
                               if withdrawal else ""),
    }


def certificate_pdf(signature: Signature) -> bytes:
    from charter.pdf import render_pdf

    return render_pdf("certificate.html", **certificate_context(signature))


def certificate_filename(signature: Signature) -> str:
    slug = "".join(c for c in signature.organisation.slug if c.isascii() and (c.isalnum() or c == "-"))
    return f"promise-charter-certificate-{slug or 'organisation'}-v{signature.charter_version.number}.pdf"

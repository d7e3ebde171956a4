"""Organisations: joining, approval, the public register, profiles and history."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from charter import forms_common as fc
from charter import permissions, readers
from charter.auth.login import sign_in
from charter.commitments.queries import organisation_commitments
from charter.extensions import db
from charter.forms_common import EmptyForm, VersionForm
from charter.lookups import organisation_or_404, site_or_404, visible_or_404
from charter.models import InvitationKind, Organisation, Sector, Site, Tier
from charter.organisations import bp, invitations, joining, services
from charter.organisations.forms import (
    DeclineForm,
    InvitedJoinForm,
    InvitedJoinSignedInForm,
    InviteOrganisationForm,
    JoinForm,
    JoinSignedInForm,
    SignatoryFilterForm,
)
from charter.organisations.limits import invitation_limit, join_limit
from charter.pagination import Key, cursor_args, keyset_paginate, remembered
from charter.reports.queries import published_reports_query
from charter.signing.queries import signatories_query, signatory_counts, signing_statuses
from charter.transaction import perform, submit

REGISTER_PAGE_SIZE = 25
# The register's order, served by ix_organisation_register (status, name_key, id).
REGISTER_KEYS = (Key(Organisation.name_key, kind="str"), Key(Organisation.id))


def _all_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.name)))


def _details_from(form) -> services.OrganisationDetails:
    return services.OrganisationDetails(
        name=form.organisation_name.data,
        sector=Sector(form.sector.data),
        tier=Tier(form.tier.data),
        website=form.website.data or None,
        description=form.description.data or "",
    )


def _account_from(form) -> services.AccountDetails | None:
    if not hasattr(form, "password"):
        return None
    return services.AccountDetails(
        full_name=form.full_name.data, job_title=form.job_title.data,
        email=form.email.data or "", password=form.password.data,
    )


# --- joining --------------------------------------------------------------------------

def _apply(form, sites: list[Site], signed_in: bool):
    """The join form's service call: an application by someone signed in (the new
    organisation), or a request to join by someone without an account (the address written
    to)."""
    site = next(s for s in sites if s.slug == form.site.data)
    if signed_in:
        return services.apply_to_join(current_user, site, _details_from(form))
    return joining.request_to_join(site, _details_from(form), _account_from(form))


@bp.route("/join", methods=["GET", "POST"])
@join_limit
def join():
    sites = _all_sites()
    signed_in = current_user.is_authenticated
    form = JoinSignedInForm() if signed_in else JoinForm()
    form.site.choices = fc.choices(((s.slug, s.name) for s in sites), empty=_("Choose a site"))
    if request.method == "GET" and request.args.get("site"):
        form.site.data = request.args["site"]
    outcome = submit(form, lambda: _apply(form, sites, signed_in))
    if outcome and not signed_in:
        # The same page whatever happened (new address, existing account, a name taken by
        # an application the public may not know of): the mailbox says.
        return render_template("organisations/join_sent.html", email=outcome.result,
                               hours=joining.max_age_hours())
    if outcome:
        org = outcome.result
        flash(_("Thank you. %(name)s has applied to join the %(site)s charter; the site's "
                "coordinators have been told and will reply by email.",
                name=org.name, site=org.site.name), "success")
        return redirect(url_for("organisations.profile", slug=org.slug))
    return render_template("organisations/join.html", form=form, sites=sites,
                           extra_errors=outcome.errors), outcome.status


def _join_problem(message: str, status: int):
    return render_template("organisations/join_problem.html", message=message), status


@bp.route("/join/confirm/<token>", methods=["GET", "POST"])
def confirm_join(token: str):
    """The emailed link: GET shows what is being confirmed and a button (so that mail
    scanners which open links confirm nothing); POST confirms."""
    g.no_store = True  # the page carries a live token
    check = joining.check(token)
    if check.problem:
        return _join_problem(check.message, check.status)
    form = EmptyForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return render_template("organisations/join_confirm.html", join_request=check.request,
                               token=token, form=form), status
    try:
        result = joining.confirm(token)
    except services.OrganisationError as error:  # its 4xx answer keeps nothing
        return _join_problem(error.message, error.status)
    if result.new_account:
        sign_in(result.user)
    return _confirmed(result)


def _confirmed(result: joining.Confirmation):
    """Where a confirmed join request goes next, and what it is told."""
    user, org = result.user, result.organisation
    if org is None:
        flash(_("Your email address is confirmed, but the application was not sent: "
                "%(reason)s", reason=result.refused), "warning")
        target = url_for("organisations.join")
    else:
        flash(_("Thank you. Your email address is confirmed, and %(name)s has applied to join "
                "the %(site)s charter; the site's coordinators have been told and will reply "
                "by email.", name=org.name, site=org.site.name), "success")
        target = url_for("organisations.profile", slug=org.slug)
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(target)
    flash(_("There was already an account with this address: sign in with its password to "
            "follow the application."), "info")
    return redirect(url_for("auth.login", next=target))


def _invitation_refused(invitation, signed_in: bool, token: str):
    """The page for an organisation invitation this person cannot use as they are (signed
    in as someone else, its own sender, an address that has an account), or None."""
    if signed_in and current_user.email != invitation.email:
        return render_template("organisations/invitation_wrong_account.html",
                               invitation=invitation), 403
    if not permissions.can_accept_invitation(current_user, invitation):
        return render_template("organisations/invitation_problem.html",
                               message=services.self_invitation_message()), 403
    if not signed_in and services.find_account(invitation.email) is not None:
        return render_template("organisations/invitation_sign_in.html",
                               invitation=invitation, token=token)
    return None


def _invited_join_form(invitation, signed_in: bool):
    form = InvitedJoinSignedInForm() if signed_in else InvitedJoinForm()
    if not signed_in:
        form.email.data = invitation.email
    if request.method == "GET" and invitation.organisation_name:
        form.organisation_name.data = invitation.organisation_name
    return form


@bp.route("/join/invited/<token>", methods=["GET", "POST"])
def join_invited(token: str):
    check = invitations.check(token, InvitationKind.ORGANISATION)
    if check.problem:
        status = 410 if check.problem in ("expired", "used", "revoked") else 400
        return render_template("organisations/invitation_problem.html", message=check.message), status
    invitation, signed_in = check.invitation, current_user.is_authenticated
    refused = _invitation_refused(invitation, signed_in, token)
    if refused is not None:
        return refused
    form = _invited_join_form(invitation, signed_in)
    outcome = submit(form, lambda: services.accept_organisation_invitation(
        current_user, token, _details_from(form), _account_from(form)))
    if outcome:
        org, lead = outcome.result
        if not signed_in:
            sign_in(lead)
        flash(_("Welcome. %(name)s is now approved on the %(site)s charter: read the charter "
                "and sign it.", name=org.name, site=org.site.name), "success")
        return redirect(url_for("signing.sign", slug=org.slug))
    return render_template("organisations/join_invited.html", form=form, invitation=invitation,
                           token=token, extra_errors=outcome.errors), outcome.status


# --- coordinators: applications, decisions, invitations ------------------------------

def _applications_page(site: Site, invite_form=None, decline_forms=None, status=200,
                       extra_errors=None):
    pending = services.pending_applications(site)
    forms = decline_forms or {}
    for org in pending:
        forms.setdefault(org.id, DeclineForm(prefix=f"decline-{org.id}",
                                             formdata=None, version=org.version))
    return render_template(
        "organisations/applications.html",
        site=site,
        pending=pending,
        decline_forms=forms,
        approve_form=VersionForm(formdata=None),
        invite_form=invite_form or InviteOrganisationForm(formdata=None),
        invitations=services.open_organisation_invitations(site),
        decided=services.recent_decisions(site),
        extra_errors=extra_errors or [],
    ), status


@bp.route("/manage/sites/<slug>/applications")
@login_required
def applications(slug: str):
    site = site_or_404(slug)
    if not permissions.can_review_applications(current_user, site):
        abort(403)
    return _applications_page(site)


@bp.route("/manage/sites/<slug>/invitations", methods=["POST"])
@login_required
@invitation_limit
def invite_organisation(slug: str):
    site = site_or_404(slug)
    if not permissions.can_invite_organisation(current_user, site):
        abort(403)
    form = InviteOrganisationForm()
    outcome = submit(form, lambda: services.invite_organisation(
        current_user, site, form.email.data, form.organisation_name.data, form.message.data))
    if outcome:
        flash(_("Invitation sent to %(email)s. The link works once, for 14 days.",
                email=outcome.result.email), "success")
        return redirect(url_for("organisations.applications", slug=site.slug))
    return _applications_page(site, invite_form=form, status=400, extra_errors=outcome.errors)


def _decision_target(slug: str) -> Organisation:
    return visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                          lambda user, org: permissions.can_review_applications(user, org.site_id))


def _to_applications(org: Organisation, status: int = 302):
    return redirect(url_for("organisations.applications", slug=org.site.slug), status)


@bp.route("/manage/organisations/<slug>/approve", methods=["POST"])
@login_required
def approve(slug: str):
    org = _decision_target(slug)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    _approved, refused = perform(lambda: services.approve(current_user, org, form.version.data))
    if refused is not None:
        flash(refused, "warning")
        return _to_applications(org, 303)
    flash(_("%(name)s is approved. Its lead has been told and can now sign.", name=org.name),
          "success")
    return _to_applications(org)


@bp.route("/manage/organisations/<slug>/decline", methods=["POST"])
@login_required
def decline(slug: str):
    org = _decision_target(slug)
    form = DeclineForm(prefix=f"decline-{org.id}")
    outcome = submit(form, lambda: services.decline(current_user, org, form.reason.data,
                                                    form.version.data))
    if outcome:
        flash(_("%(name)s was declined. The applicant has been told why.", name=org.name),
              "success")
        return _to_applications(org)
    if outcome.errors:  # a refusal that belongs to no field (already decided, say)
        flash(outcome.errors[0], "warning")
        return _to_applications(org, 303)
    return _applications_page(org.site, decline_forms={org.id: form}, status=400)


# --- public register, profiles, history -----------------------------------------------

@bp.route("/signatories")
def signatories():
    sites = _all_sites()
    form = SignatoryFilterForm(request.args, sites=sites)
    valid = form.validate()
    site = next((s for s in sites if s.slug == form.site.data), None) if valid else None
    filters = {}
    if valid:
        filters = {
            "site_id": site.id if site else None,
            "sector": Sector(form.sector.data) if form.sector.data else None,
            "tier": Tier(form.tier.data) if form.tier.data else None,
            "search": form.q.data or None,
        }
    after, before = cursor_args(request.args)
    page = keyset_paginate(signatories_query(**filters), REGISTER_KEYS,
                           lambda o: (o.name_key, o.id), REGISTER_PAGE_SIZE,
                           page=readers.page_arg(), after=after, before=before)
    statuses = signing_statuses(page.items)
    counts = remembered("signatory-counts", filters, lambda: signatory_counts(**filters))
    sites_by_id = {s.id: s for s in sites}
    return render_template(
        "organisations/signatories.html", form=form, page=page, statuses=statuses,
        counts=counts, sites_by_id=sites_by_id, filter_site=site, filters_valid=valid,
    ), (200 if valid else 400)


@bp.route("/organisations/<slug>")
def profile(slug: str):
    org = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation)
    status = signing_statuses([org])[org.id]
    can_see_private = permissions.can_view_organisation_private(current_user, org)
    return render_template(
        "organisations/profile.html", org=org, status=status,
        can_see_private=can_see_private,
        commitment_groups=organisation_commitments(org, include_drafts=can_see_private),
        reports=list(db.session.scalars(
            published_reports_query().where(Organisation.id == org.id).limit(50))),
        members=services.members_of(org) if permissions.can_view_members(current_user, org) else [],
    )


@bp.route("/organisations/<slug>/history")
@login_required
def history(slug: str):
    org = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                         permissions.can_view_organisation_history)
    page = services.organisation_history(org, readers.page_arg())
    return render_template("organisations/history.html", org=org, page=page)

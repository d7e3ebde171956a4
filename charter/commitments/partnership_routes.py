"""Routes of the commitments blueprint: partnerships.

Inviting partners to a commitment (its lead organisation's members), an organisation's
partnerships page where its leads accept or decline (and either side's lead ends a
partnership), and the public list of joint commitments across sectors and sites."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from charter import permissions, readers
from charter.commitments import bp, partnerships, queries
from charter.commitments.partnership_forms import (
    InvitePartnerForm,
    JointCommitmentFilterForm,
    PartnerSearchForm,
)
from charter.commitments.routes import commitment_or_404
from charter.extensions import db
from charter.forms_common import EmptyForm
from charter.lookups import organisation_or_404, visible_or_404
from charter.models import ChangeDomain, Commitment, Organisation, Partnership, Sector, Site
from charter.transaction import submit

JOINT_PAGE_SIZE = 20


def _all_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.name)))


# --- inviting partners -------------------------------------------------------------------

def _search_args(search: PartnerSearchForm, valid: bool) -> dict[str, str]:
    if not valid:
        return {}
    return {k: v for k, v in (("q", search.q.data or ""), ("site", search.site.data or ""),
                              ("sector", search.sector.data or "")) if v}


def _render_partners(commitment: Commitment, form: InvitePartnerForm, extra: list[str],
                     status: int):
    sites = _all_sites()
    search = PartnerSearchForm(request.args, sites=sites)
    valid = search.validate()
    site = next((s for s in sites if s.slug == search.site.data), None) if valid else None
    candidates = partnerships.invitable_organisations(
        commitment,
        search=search.q.data if valid else None,
        site_id=site.id if site else None,
        sector=Sector(search.sector.data) if valid and search.sector.data else None,
    )
    form.organisation.choices = InvitePartnerForm(
        formdata=None, organisations=candidates.organisations).organisation.choices
    if not valid and status == 200:
        status = 400
    return render_template(
        "commitments/partnerships/manage.html",
        commitment=commitment,
        partnerships=partnerships.partnerships_of(commitment),
        search=search,
        search_valid=valid,
        search_args=_search_args(search, valid),
        candidates=candidates,
        form=form,
        extra_errors=extra,
        action_form=EmptyForm(formdata=None),
    ), status


@bp.route("/commitments/<int:commitment_id>/partners", methods=["GET", "POST"])
@login_required
def partners(commitment_id: int):
    if not 0 < commitment_id <= partnerships.MAX_ID:  # PostgreSQL refuses larger integers
        abort(404)
    commitment = visible_or_404(queries.load_commitment(commitment_id),
                                permissions.can_view_commitment, permissions.can_invite_partner)
    form = InvitePartnerForm(formdata=request.form if request.method == "POST" else None)
    outcome = submit(form, lambda: partnerships.invite(
        current_user, commitment, readers.id_or_none(form.organisation.data) or 0,
        form.role_note.data or ""))
    if outcome:
        flash(_("%(org)s is invited. Its leads have been sent an email and can accept or "
                "decline on their partnerships page.", org=outcome.result.organisation.name),
              "success")
        return redirect(url_for("commitments.partners", commitment_id=commitment_id))
    return _render_partners(commitment, form, outcome.errors, outcome.status)


# --- an organisation's partnerships --------------------------------------------------------

def _inbox_organisation(slug: str) -> Organisation:
    return visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                          permissions.can_view_organisation_private)


def _render_inbox(organisation: Organisation, errors: list[str] | None = None, status: int = 200):
    return render_template(
        "commitments/partnerships/inbox.html",
        organisation=organisation,
        inbox=partnerships.inbox(organisation),
        action_form=EmptyForm(formdata=None),
        errors=errors or [],
    ), status


@bp.route("/organisations/<slug>/partnerships")
@login_required
def partnership_inbox(slug: str):
    return _render_inbox(_inbox_organisation(slug))


def _partnership_or_404(partnership_id: int, may_act=None) -> Partnership:
    return visible_or_404(partnerships.load_partnership(partnership_id),
                          permissions.can_view_partnership, may_act)


def _acts_for_partner(partnership: Partnership) -> bool:
    """Whether the signed-in lead acts for the invited organisation (else for the lead one)."""
    return permissions.is_lead(current_user, partnership.organisation_id)


def _back_to(partnership_id: int, for_partner: bool, organisation_slug: str, commitment_id: int,
             errors: list[str] | None = None, status: int = 200):
    """The page the action came from: the partner's inbox or the commitment's partners page."""
    if errors is None:
        if for_partner:
            return redirect(url_for("commitments.partnership_inbox", slug=organisation_slug))
        return redirect(url_for("commitments.partners", commitment_id=commitment_id))
    if for_partner:
        return _render_inbox(organisation_or_404(organisation_slug), errors, status)
    commitment = commitment_or_404(commitment_id)
    if not permissions.can_invite_partner(current_user, commitment):
        return _render_inbox(commitment.organisation, errors, status)
    return _render_partners(commitment, InvitePartnerForm(formdata=None), errors, status)


def _act(partnership_id: int, allowed, action, success):
    partnership = _partnership_or_404(partnership_id, allowed)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    for_partner = _acts_for_partner(partnership)
    slug = partnership.organisation.slug
    commitment_id = partnership.commitment_id
    names = {"org": partnership.organisation.name, "lead": partnership.commitment.organisation.name,
             "title": partnership.commitment.title}
    # A form of its own (not perform): the page shown again needs the refusal's status.
    outcome = submit(form, lambda: action(current_user, partnership))
    if not outcome:
        return _back_to(partnership_id, for_partner, slug, commitment_id, outcome.errors,
                        outcome.status)
    flash(success % names, "success")
    return _back_to(partnership_id, for_partner, slug, commitment_id)


@bp.route("/partnerships/<int:partnership_id>/accept", methods=["POST"])
@login_required
def accept_partnership(partnership_id: int):
    return _act(partnership_id, permissions.can_respond_to_partnership, partnerships.accept,
                _("%(org)s is now a partner in “%(title)s”, a joint commitment with %(lead)s. "
                  "It shows on both profiles, and your members can add progress updates to it."))


@bp.route("/partnerships/<int:partnership_id>/decline", methods=["POST"])
@login_required
def decline_partnership(partnership_id: int):
    return _act(partnership_id, permissions.can_respond_to_partnership, partnerships.decline,
                _("You declined the invitation to “%(title)s”. %(lead)s has been told."))


@bp.route("/partnerships/<int:partnership_id>/end", methods=["POST"])
@login_required
def end_partnership(partnership_id: int):
    return _act(partnership_id, permissions.can_end_partnership, partnerships.end,
                _("The partnership of %(org)s in “%(title)s” has ended. It stays on the "
                  "commitment's timeline."))


# --- the public list of joint commitments -------------------------------------------------

def _joint_filters(form: JointCommitmentFilterForm, site: Site | None,
                   domain: ChangeDomain | None) -> partnerships.JointFilters:
    return partnerships.JointFilters(
        site_id=site.id if site else None,
        sectors=[Sector(s) for s in form.sector.data or []],
        domain_id=domain.id if domain else None,
        min_sectors=readers.int_or_none(form.min_sectors.data, 1, 99),
    )


@bp.route("/partnerships", endpoint="partnerships")
def joint_commitments():
    sites = _all_sites()
    domains = list(db.session.scalars(ChangeDomain.ordered()))
    form = JointCommitmentFilterForm(request.args, sites=sites, domains=domains)
    valid = form.validate()
    filters = partnerships.JointFilters()
    filter_site = filter_domain = None
    if valid:
        filter_site = next((s for s in sites if s.slug == form.site.data), None)
        filter_domain = next((d for d in domains if d.slug == form.domain.data), None)
        filters = _joint_filters(form, filter_site, filter_domain)
    order = partnerships.joint_commitment_order(filters)
    page = partnerships.joint_commitments_page(
        filters, readers.page_arg(), JOINT_PAGE_SIZE, after=request.args.get("after"),
        before=request.args.get("before"), order=order)
    return render_template(
        "commitments/partnerships/index.html",
        form=form, filters_valid=valid, page=page, filters=filters,
        filter_site=filter_site, filter_domain=filter_domain,
        sector_total=order.sectors,
        accepted_partners=partnerships.accepted_partners,
        sectors_of=partnerships.sectors_of,
    ), (200 if valid else 400)

"""Members of an organisation: invitations, removal, roles and handing over the lead."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions
from charter.auth.login import sign_in, sign_out
from charter.forms_common import EmptyForm
from charter.lookups import organisation_or_404, visible_or_404
from charter.models import InvitationKind, MemberRole, Organisation
from charter.organisations import bp, invitations, members_services
from charter.organisations.limits import invitation_limit
from charter.organisations.members_forms import (
    ChangeRoleForm,
    CreateAccountForm,
    InviteMemberForm,
)
from charter.transaction import perform, submit

# --- the members page ------------------------------------------------------------------


def _members_organisation(slug: str, may_act=None) -> Organisation:
    """The organisation: 404 for someone who may not know it exists (pending, declined),
    403 for someone who may not see its members (or, with `may_act`, do this to them)."""
    return visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                          may_act or permissions.can_view_members)


def _managed_organisation(slug: str) -> Organisation:
    return _members_organisation(slug, permissions.can_manage_members)


def _render_members(organisation: Organisation, invite_form: InviteMemberForm | None = None,
                    errors: list[str] | None = None, status: int = 200):
    page = members_services.members_page(organisation)
    return render_template(
        "organisations/members/index.html",
        organisation=organisation,
        site=organisation.site,
        page=page,
        invite_form=invite_form or InviteMemberForm(formdata=None),
        action_form=EmptyForm(formdata=None),
        roles=list(MemberRole),
        can_manage=permissions.can_manage_members(current_user, organisation),
        can_hand_over=permissions.can_hand_over_lead(current_user, organisation),
        errors=errors,
    ), status


@bp.route("/organisations/<slug>/members")
@login_required
def members(slug: str):
    return _render_members(_members_organisation(slug))


@bp.route("/organisations/<slug>/members/invite", methods=["POST"])
@login_required
@invitation_limit
def invite_member(slug: str):
    organisation = _managed_organisation(slug)
    form = InviteMemberForm()
    outcome = submit(form, lambda: members_services.invite_member(
        current_user, organisation, form.email.data, form.role.data, form.message.data or ""))
    if outcome:
        flash(_("An invitation has been sent to %(email)s.", email=outcome.result.email),
              "success")
        return redirect(url_for("organisations.members", slug=organisation.slug))
    return _render_members(organisation, form, errors=outcome.errors or None, status=400)


def _perform(action):
    """`perform` a member change: (result, None), or (None, why it was refused); 404 when
    the membership or invitation is not one of this organisation's."""
    try:
        return perform(action)
    except members_services.MemberNotFound:
        abort(404)


@bp.route("/organisations/<slug>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    organisation = _managed_organisation(slug)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _render_members(organisation, errors=_form_errors(form), status=400)
    invitation, refused = _perform(
        lambda: members_services.revoke_invitation(current_user, organisation, invitation_id))
    if refused is not None:
        return _render_members(organisation, errors=[refused], status=400)
    flash(_("The invitation to %(email)s has been withdrawn.", email=invitation.email), "success")
    return redirect(url_for("organisations.members", slug=organisation.slug))


def _form_errors(form) -> list[str]:
    return [str(e) for errors in form.errors.values() for e in errors]


def _member_action(slug: str, do, success):
    """Shared shape of remove / change role / hand over: check, call one service; the
    request commits when it succeeded."""
    organisation = _managed_organisation(slug)
    result, refused = _perform(lambda: do(organisation))
    if refused is not None:
        return _render_members(organisation, errors=[refused], status=400)
    return success(organisation, result)


@bp.route("/organisations/<slug>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(slug: str, membership_id: int):
    actor_id = current_user.id

    def do(organisation):
        form = EmptyForm()
        if not form.validate_on_submit():
            raise members_services.MemberError(" ".join(_form_errors(form)))
        membership = members_services.remove_member(current_user, organisation, membership_id)
        return {"name": membership.user.full_name, "self": membership.user_id == actor_id}

    def success(organisation, removed):
        if removed["self"]:
            flash(_("You are no longer a member of %(org)s.", org=organisation.name), "success")
            if permissions.can_view_members(current_user, organisation):
                return redirect(url_for("organisations.members", slug=organisation.slug))
            return redirect(url_for("main.dashboard"))
        flash(_("%(name)s is no longer a member of %(org)s.", name=removed["name"],
                org=organisation.name), "success")
        return redirect(url_for("organisations.members", slug=organisation.slug))

    return _member_action(slug, do, success)


@bp.route("/organisations/<slug>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_member_role(slug: str, membership_id: int):
    def do(organisation):
        form = ChangeRoleForm()
        if not form.validate_on_submit():
            raise members_services.MemberError(" ".join(_form_errors(form)))
        return members_services.change_role(current_user, organisation, membership_id, form.role.data)

    def success(organisation, membership):
        flash(_("%(name)s is now %(role)s.", name=membership.user.full_name,
                role=membership.role.label.lower()), "success")
        return redirect(url_for("organisations.members", slug=organisation.slug))

    return _member_action(slug, do, success)


@bp.route("/organisations/<slug>/members/<int:membership_id>/handover", methods=["POST"])
@login_required
def hand_over_lead(slug: str, membership_id: int):
    def do(organisation):
        if not permissions.can_hand_over_lead(current_user, organisation):
            abort(403)
        form = EmptyForm()
        if not form.validate_on_submit():
            raise members_services.MemberError(" ".join(_form_errors(form)))
        return members_services.hand_over_lead(current_user, organisation, membership_id)

    def success(organisation, membership):
        flash(_("%(name)s is now lead of %(org)s, and you are an editor.",
                name=membership.user.full_name, org=organisation.name), "success")
        return redirect(url_for("organisations.members", slug=organisation.slug))

    return _member_action(slug, do, success)


# --- accepting an invitation (public) ---------------------------------------------------

PROBLEM_STATUS = {"invalid": 400, "wrong_kind": 400, "expired": 410, "used": 410, "revoked": 410}


def _problem(message: str, status: int):
    return render_template("organisations/members/invitation_problem.html", message=message), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    g.no_store = True  # the page carries a live token: keep it out of caches
    check = invitations.check(token, InvitationKind.MEMBER)
    if check.invitation is None or check.problem:
        return _problem(check.message, PROBLEM_STATUS.get(check.problem, 400))
    invitation = check.invitation
    organisation = invitation.organisation
    if organisation is None or organisation.status in members_services.CLOSED_STATUSES:
        return _problem(_("This organisation no longer takes part in the charter, so the "
                          "invitation cannot be accepted."), 410)

    if current_user.is_authenticated:
        return _accept_signed_in(token, invitation)
    if members_services.find_user(invitation.email) is not None:
        status = 200 if request.method == "GET" else 400
        return _invitation_page(token, invitation, "sign_in", status=status)
    return _accept_new_account(token, invitation)


def _invitation_page(token, invitation, state: str, status: int = 200, **context):
    return render_template(
        "organisations/members/accept.html",
        token=token,
        invitation=invitation,
        organisation=invitation.organisation,
        site=invitation.site,
        state=state,
        login_url=url_for("auth.login", next=url_for("organisations.accept_invitation", token=token)),
        **context,
    ), status


def _accept_signed_in(token, invitation):
    form = EmptyForm()
    if request.method == "POST" and request.form.get("action") == "sign_out" \
            and form.validate_on_submit():
        sign_out()
        flash(_("You are signed out. You can now accept the invitation."), "info")
        return redirect(url_for("organisations.accept_invitation", token=token))
    if current_user.email != invitation.email:
        status = 200 if request.method == "GET" else 403
        return _invitation_page(token, invitation, "other_user", status=status, form=form)
    if not permissions.can_accept_invitation(current_user, invitation):
        return _problem(members_services.self_invitation_message(), 403)

    existing = members_services.membership_of(current_user, invitation.organisation)
    if request.method == "GET" or not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return _invitation_page(token, invitation, "accept", status=status, form=form,
                                existing=existing)
    result, refused = perform(lambda: members_services.accept_invitation(current_user, invitation))
    if refused is not None:  # used, withdrawn or expired meanwhile
        return _problem(refused, 410)
    organisation = result.membership.organisation
    if result.created:
        flash(_("Welcome to %(org)s. You are now %(role)s.", org=organisation.name,
                role=result.membership.role.label.lower()), "success")
    else:
        flash(_("You are already a member of %(org)s, as %(role)s. Nothing has changed.",
                org=organisation.name, role=result.membership.role.label.lower()), "info")
    return redirect(url_for("organisations.members", slug=organisation.slug))


def _accept_new_account(token, invitation):
    form = CreateAccountForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return _invitation_page(token, invitation, "create_account", status=status, form=form)
    try:
        result = members_services.accept_with_new_account(
            invitation, form.full_name.data, form.job_title.data, form.password.data
        )
    except members_services.MemberError as exc:  # its 4xx answer keeps nothing of the request
        if exc.field == "account":  # someone registered this address a moment ago
            return _invitation_page(token, invitation, "sign_in", status=400, error=exc.message)
        return _problem(exc.message, 410)
    user = result.membership.user
    sign_in(user)
    organisation = result.membership.organisation
    flash(_("Welcome, %(name)s. Your account is ready and you are now %(role)s of %(org)s.",
            name=user.full_name, role=result.membership.role.label.lower(), org=organisation.name),
          "success")
    return redirect(url_for("organisations.members", slug=organisation.slug))

"""Commitment pages: reading one, and creating, editing, publishing and retiring them.

Partnerships, indicators, progress updates and spreadsheets add their routes to this
blueprint from their own modules (imported at the end)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.commitments import bp, queries, services
from charter.commitments.forms import (
    CommitmentForm,
    MilestoneDoneForm,
    MilestoneForm,
    RetireForm,
)
from charter.forms_common import EmptyForm
from charter.lookups import organisation_or_404, visible_or_404
from charter.models import RAG, Ambition, Commitment, Completion
from charter.transaction import perform, perform_and_say, submit


def commitment_or_404(commitment_id: int, *, for_edit: bool = False) -> Commitment:
    """The commitment if this user may see it (404 otherwise); with for_edit, 403 when
    they may see but not change it."""
    return visible_or_404(queries.load_commitment(commitment_id),
                          permissions.can_view_commitment,
                          permissions.can_edit_commitment if for_edit else None)


def _values(form) -> services.CommitmentValues:
    return services.CommitmentValues(
        title=form.title.data, domain_id=readers.read_id(form.domain.data),
        description=form.description.data or "", start_date=form.start_date.data,
        target_date=form.target_date.data, ambition=Ambition(form.ambition.data),
        completion=Completion(form.completion.data), rag=RAG(form.rag.data),
    )



@bp.route("/commitments/<int:commitment_id>")
def view(commitment_id: int):
    commitment = commitment_or_404(commitment_id)
    private = permissions.can_view_organisation_private(current_user, commitment.organisation)
    can_edit = permissions.can_edit_commitment(current_user, commitment)
    return render_template(
        "commitments/view.html",
        commitment=commitment,
        timeline=queries.timeline(commitment, private=private),
        can_edit=can_edit,
        # A form makes a CSRF token, which sets a session cookie: only for those who may
        # use its buttons, so that the public's GET stays cookie-free (and cacheable).
        empty_form=EmptyForm() if can_edit else None,
    )


@bp.route("/organisations/<slug>/commitments/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    org = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                         permissions.can_create_commitment)
    form = CommitmentForm(domains=services.active_domains())
    if request.method == "GET" and readers.id_arg("domain") is not None:
        form.domain.data = str(readers.id_arg("domain"))
    outcome = submit(form, lambda: services.create(current_user, org, _values(form)))
    if outcome:
        flash(_("The commitment is saved as a draft: only your organisation and your site's "
                "coordinators can see it until you publish it."), "success")
        return redirect(url_for("commitments.view", commitment_id=outcome.result.id))
    return render_template("commitments/form.html", form=form, org=org, commitment=None,
                           extra_errors=outcome.errors), outcome.status


@bp.route("/commitments/<int:commitment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = CommitmentForm(obj=None if request.method == "POST" else commitment,
                          domains=services.active_domains(include_id=commitment.domain_id))
    if request.method == "GET":
        form.domain.data = str(commitment.domain_id)
        form.ambition.data = commitment.ambition.value
        form.completion.data = commitment.completion.value
        form.rag.data = commitment.rag.value
        form.version.data = commitment.version
    outcome = submit(form, lambda: services.update(current_user, commitment, _values(form),
                                                   form.version.data))
    if outcome:
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("commitments.view", commitment_id=commitment.id))
    if outcome.conflict:
        current = queries.load_commitment(commitment_id)
        form.version.data = current.version
        return render_template("commitments/conflict.html", form=form, current=current,
                               mine=form), 409
    return render_template("commitments/form.html", form=form, org=commitment.organisation,
                           commitment=commitment, extra_errors=outcome.errors,
                           milestone_form=MilestoneForm(formdata=None),
                           done_form=MilestoneDoneForm(formdata=None)), outcome.status


def _button(commitment: Commitment, action, success: str) -> bool:
    """Run a button's service call; flash what came of it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return perform_and_say(lambda: action(current_user, commitment), success)


@bp.route("/commitments/<int:commitment_id>/publish", methods=["POST"])
@login_required
def publish(commitment_id: int):
    _button(commitment_or_404(commitment_id, for_edit=True), services.publish,
            _("The commitment is published: anyone can now read it."))
    return redirect(url_for("commitments.view", commitment_id=commitment_id))


@bp.route("/commitments/<int:commitment_id>/delete", methods=["POST"])
@login_required
def delete(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    slug = commitment.organisation.slug
    if _button(commitment, services.delete_draft, _("The draft is deleted.")):
        return redirect(url_for("organisations.profile", slug=slug))
    return redirect(url_for("commitments.view", commitment_id=commitment_id))


@bp.route("/commitments/<int:commitment_id>/retire", methods=["GET", "POST"])
@login_required
def retire(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = RetireForm()
    outcome = submit(form, lambda: services.retire(current_user, commitment, form.reason.data))
    if outcome:
        flash(_("The commitment is retired. It stays public, with your reason."), "success")
        return redirect(url_for("commitments.view", commitment_id=commitment.id))
    return render_template("commitments/retire.html", form=form, commitment=commitment,
                           extra_errors=outcome.errors), outcome.status


# --- milestones ---------------------------------------------------------------------------

def _to_milestones(commitment: Commitment):
    return redirect(url_for("commitments.edit", commitment_id=commitment.id) + "#milestones")


@bp.route("/commitments/<int:commitment_id>/milestones", methods=["POST"])
@login_required
def add_milestone(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = MilestoneForm()
    if form.validate_on_submit():
        _result, refused = perform(lambda: services.add_milestone(
            current_user, commitment, form.milestone_title.data, form.due_date.data))
        if refused is None:
            flash(_("Milestone added."), "success")
            return _to_milestones(commitment)
        form.milestone_title.errors = [*form.milestone_title.errors, refused]
    edit_form = CommitmentForm(obj=commitment, domains=services.active_domains(commitment.domain_id))
    edit_form.domain.data = str(commitment.domain_id)
    edit_form.version.data = commitment.version
    return render_template("commitments/form.html", form=edit_form, org=commitment.organisation,
                           commitment=commitment, extra_errors=[], milestone_form=form,
                           done_form=MilestoneDoneForm(formdata=None)), 400


@bp.route("/commitments/<int:commitment_id>/milestones/<int:milestone_id>/done", methods=["POST"])
@login_required
def milestone_done(commitment_id: int, milestone_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = MilestoneDoneForm()
    if not form.validate_on_submit():
        flash(form.done_date.errors[0] if form.done_date.errors
              else _("Enter the date as year, month and day."), "warning")
        return _to_milestones(commitment)
    services.set_milestone_done(current_user, commitment, milestone_id, form.done_date.data)
    return _to_milestones(commitment)


@bp.route("/commitments/<int:commitment_id>/milestones/<int:milestone_id>/delete",
          methods=["POST"])
@login_required
def delete_milestone(commitment_id: int, milestone_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_milestone(current_user, commitment, milestone_id)
    flash(_("Milestone removed."), "success")
    return _to_milestones(commitment)

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
    EmptyForm,
    MilestoneDoneForm,
    MilestoneForm,
    RetireForm,
)
from charter.extensions import db
from charter.lookups import organisation_or_404
from charter.models import RAG, Ambition, Commitment, Completion
from charter.rules import attach_error


def commitment_or_404(commitment_id: int, *, for_edit: bool = False) -> Commitment:
    """The commitment if this user may see it (404 otherwise); with for_edit, 403 when
    they may see but not change it."""
    commitment = queries.load_commitment(commitment_id)
    if commitment is None or not permissions.can_view_commitment(current_user, commitment):
        abort(404)
    if for_edit and not permissions.can_edit_commitment(current_user, commitment):
        abort(403)
    return commitment


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
    return render_template(
        "commitments/view.html",
        commitment=commitment,
        timeline=queries.timeline(commitment, private=private),
        can_edit=permissions.can_edit_commitment(current_user, commitment),
        empty_form=EmptyForm(),
    )


@bp.route("/organisations/<slug>/commitments/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    org = organisation_or_404(slug)
    if not permissions.can_create_commitment(current_user, org):
        if permissions.can_view_organisation(current_user, org):
            abort(403)
        abort(404)
    form = CommitmentForm(domains=services.active_domains())
    if request.method == "GET" and readers.id_arg("domain") is not None:
        form.domain.data = str(readers.id_arg("domain"))
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            commitment = services.create(current_user, org, _values(form))
        except services.CommitmentError as error:
            extra = attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The commitment is saved as a draft: only your organisation and your site's "
                    "coordinators can see it until you publish it."), "success")
            return redirect(url_for("commitments.view", commitment_id=commitment.id))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/form.html", form=form, org=org, commitment=None,
                           extra_errors=extra), status


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
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            services.update(current_user, commitment, _values(form), form.version.data)
        except services.EditConflict:
            db.session.rollback()
            current = queries.load_commitment(commitment_id)
            form.version.data = current.version
            return render_template("commitments/conflict.html", form=form, current=current,
                                   mine=form), 409
        except services.CommitmentError as error:
            extra = attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("commitments.view", commitment_id=commitment.id))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/form.html", form=form, org=commitment.organisation,
                           commitment=commitment, extra_errors=extra,
                           milestone_form=MilestoneForm(formdata=None),
                           done_form=MilestoneDoneForm(formdata=None)), status


def _simple_action(commitment_id: int, action, success: str):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, commitment)
    except services.CommitmentError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(success, "success")
    return commitment


@bp.route("/commitments/<int:commitment_id>/publish", methods=["POST"])
@login_required
def publish(commitment_id: int):
    _simple_action(commitment_id, services.publish,
                   _("The commitment is published: anyone can now read it."))
    return redirect(url_for("commitments.view", commitment_id=commitment_id))


@bp.route("/commitments/<int:commitment_id>/delete", methods=["POST"])
@login_required
def delete(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    slug = commitment.organisation.slug
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_draft(current_user, commitment)
    except services.CommitmentError as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("commitments.view", commitment_id=commitment_id))
    db.session.commit()
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("organisations.profile", slug=slug))


@bp.route("/commitments/<int:commitment_id>/retire", methods=["GET", "POST"])
@login_required
def retire(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = RetireForm()
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            services.retire(current_user, commitment, form.reason.data)
        except services.CommitmentError as error:
            extra = attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The commitment is retired. It stays public, with your reason."), "success")
            return redirect(url_for("commitments.view", commitment_id=commitment.id))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/retire.html", form=form, commitment=commitment,
                           extra_errors=extra), status


# --- milestones ---------------------------------------------------------------------------

@bp.route("/commitments/<int:commitment_id>/milestones", methods=["POST"])
@login_required
def add_milestone(commitment_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    form = MilestoneForm()
    if form.validate_on_submit():
        try:
            services.add_milestone(current_user, commitment, form.milestone_title.data,
                                   form.due_date.data)
        except services.CommitmentError as error:
            form.milestone_title.errors = [*form.milestone_title.errors, error.message]
        else:
            db.session.commit()
            flash(_("Milestone added."), "success")
            return redirect(url_for("commitments.edit", commitment_id=commitment.id) + "#milestones")
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
        return redirect(url_for("commitments.edit", commitment_id=commitment.id) + "#milestones")
    try:
        services.set_milestone_done(current_user, commitment, milestone_id, form.done_date.data)
    except services.CommitmentError as error:
        if error.status == 404:
            abort(404)
        raise
    db.session.commit()
    return redirect(url_for("commitments.edit", commitment_id=commitment.id) + "#milestones")


@bp.route("/commitments/<int:commitment_id>/milestones/<int:milestone_id>/delete",
          methods=["POST"])
@login_required
def delete_milestone(commitment_id: int, milestone_id: int):
    commitment = commitment_or_404(commitment_id, for_edit=True)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.delete_milestone(current_user, commitment, milestone_id)
    except services.CommitmentError as error:
        if error.status == 404:
            abort(404)
        raise
    db.session.commit()
    flash(_("Milestone removed."), "success")
    return redirect(url_for("commitments.edit", commitment_id=commitment.id) + "#milestones")

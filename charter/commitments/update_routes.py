"""Routes of the commitments blueprint: progress updates (Report, Reflect, Review, Rethink,
Refresh). Updates are added, never edited: a new update corrects an old one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions
from charter.commitments import bp
from charter.commitments import updates as services
from charter.commitments.routes import commitment_or_404
from charter.commitments.services import CommitmentError
from charter.commitments.update_forms import ProgressUpdateForm
from charter.extensions import db


@bp.route("/commitments/<int:commitment_id>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(commitment_id: int):
    commitment = commitment_or_404(commitment_id)
    if not permissions.can_add_progress_update(current_user, commitment):
        abort(403)
    form = ProgressUpdateForm()
    if request.method == "GET":
        # Review starts from where the commitment stands; the date from today, locally.
        form.update_date.data = services.site_today(commitment)
        form.completion.data = commitment.completion.value
        form.rag.data = commitment.rag.value
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            services.add_update(current_user, commitment, form.values())
        except CommitmentError as error:
            db.session.rollback()
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                extra = [error.message]
        else:
            db.session.commit()
            flash(_("Your progress update is published on the commitment.") if commitment.is_public
                  else _("Your progress update is saved."), "success")
            return redirect(url_for("commitments.view", commitment_id=commitment_id) + "#updates")
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/updates/form.html", form=form, commitment=commitment,
                           organisation=services.author_organisation(current_user, commitment),
                           extra_errors=extra), status

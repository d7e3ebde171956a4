"""Routes of the commitments blueprint: progress updates (Report, Reflect, Review, Rethink,
Refresh). Updates are added, never edited: a new update corrects an old one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions
from charter.commitments import bp, queries, updates
from charter.commitments.update_forms import ProgressUpdateForm
from charter.lookups import visible_or_404
from charter.transaction import submit


@bp.route("/commitments/<int:commitment_id>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(commitment_id: int):
    commitment = visible_or_404(queries.load_commitment(commitment_id),
                                permissions.can_view_commitment,
                                permissions.can_add_progress_update)
    form = ProgressUpdateForm()
    if request.method == "GET":
        # Review starts from where the commitment stands; the date from today, locally.
        form.update_date.data = updates.site_today(commitment)
        form.completion.data = commitment.completion.value
        form.rag.data = commitment.rag.value
    outcome = submit(form, lambda: updates.add_update(current_user, commitment, form.values()))
    if outcome:
        flash(_("Your progress update is published on the commitment.") if commitment.is_public
              else _("Your progress update is saved."), "success")
        return redirect(url_for("commitments.view", commitment_id=commitment_id) + "#updates")
    return render_template("commitments/updates/form.html", form=form, commitment=commitment,
                           organisation=updates.author_organisation(current_user, commitment),
                           extra_errors=outcome.errors), outcome.status

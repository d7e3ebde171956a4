"""Routes of the commitments blueprint: indicators on a commitment (attach, baseline and
target, remove) and their measurements. Thin: parse the form, call one service in
charter/commitments/indicators.py, commit once, render or redirect.

Also registers the template filters the commitment page's indicator section uses
(`|indicator_chart`, `|chart_number`), since section templates get no extra context.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from charter import charts, permissions
from charter.commitments import bp
from charter.commitments import indicators as services
from charter.commitments.forms import EmptyForm
from charter.commitments.indicator_forms import AttachIndicatorForm, EditTargetsForm, MeasurementForm
from charter.commitments.routes import commitment_or_404
from charter.commitments.services import CommitmentError
from charter.commitments.updates import site_today
from charter.extensions import db
from charter.models import Commitment, CommitmentIndicator, Measurement


@bp.app_template_filter("indicator_chart")
def _indicator_chart_filter(ci: CommitmentIndicator) -> charts.Chart:
    return charts.commitment_indicator_chart(ci)


@bp.app_template_filter("chart_number")
def _chart_number_filter(value) -> str:
    return charts.format_number(value)


# --- loading ------------------------------------------------------------------------------

def _manageable(commitment_id: int | None) -> Commitment:
    """The commitment, if this user may manage its indicators: 404 when they may not see
    it, 403 when they may see but not manage it."""
    if commitment_id is None:
        abort(404)
    commitment = commitment_or_404(commitment_id)
    if not permissions.can_manage_commitment_indicators(current_user, commitment):
        abort(403)
    return commitment


def _indicator_or_404(ci_id: int) -> tuple[Commitment, CommitmentIndicator]:
    commitment_id = db.session.scalar(
        select(CommitmentIndicator.commitment_id).where(CommitmentIndicator.id == ci_id))
    commitment = _manageable(commitment_id)
    return commitment, _within(commitment, ci_id)


def _within(commitment: Commitment, ci_id: int) -> CommitmentIndicator:
    try:
        return services.indicator_of(commitment, ci_id)
    except CommitmentError:
        abort(404)


def _show_error(form, error: CommitmentError) -> list[str]:
    """Put the service's message beside its field; messages without a field go on top."""
    if error.status == 404:
        abort(404)
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
        return []
    return [error.message]


# --- attaching -------------------------------------------------------------------------

@bp.route("/commitments/<int:commitment_id>/indicators/new", methods=["GET", "POST"])
@login_required
def add_indicator(commitment_id: int):
    commitment = _manageable(commitment_id)
    form = AttachIndicatorForm(catalogue=services.attachable_catalogue())
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            ci = services.attach_indicator(current_user, commitment, catalogue_id=form.catalogue_id(),
                                           own=form.own(), targets=form.targets())
        except CommitmentError as error:
            db.session.rollback()
            extra = _show_error(form, error)
        else:
            db.session.commit()
            flash(_("“%(name)s” is attached. Record its measurements below.", name=ci.indicator.name),
                  "success")
            return redirect(url_for("commitments.measurements", ci_id=ci.id))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/indicators/attach.html", form=form, commitment=commitment,
                           extra_errors=extra), status


@bp.route("/commitment-indicators/<int:ci_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    form = EditTargetsForm()
    if request.method == "GET":
        form.baseline_value.data = services.number_text(ci.baseline_value) or ""
        form.baseline_date.data = ci.baseline_date
        form.target_value.data = services.number_text(ci.target_value) or ""
        form.target_date.data = ci.target_date
        form.state.data = services.state_token(ci)
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            services.update_targets(current_user, commitment, ci.id, form.targets(),
                                    expected_state=form.state.data)
        except services.IndicatorConflict:
            db.session.rollback()
            commitment, ci = _indicator_or_404(ci_id)
            form.state.data = services.state_token(ci)
            return render_template("commitments/indicators/edit.html", form=form,
                                   commitment=commitment, ci=ci, extra_errors=[],
                                   conflict=True), 409
        except CommitmentError as error:
            db.session.rollback()
            commitment, ci = _indicator_or_404(ci_id)
            extra = _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The baseline and target of “%(name)s” are saved.", name=ci.indicator.name),
                  "success")
            return redirect(url_for("commitments.view", commitment_id=commitment.id) + "#indicators")
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/indicators/edit.html", form=form, commitment=commitment,
                           ci=ci, extra_errors=extra, conflict=False), status


@bp.route("/commitment-indicators/<int:ci_id>/remove", methods=["POST"])
@login_required
def remove_indicator(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = ci.indicator.name
    try:
        services.remove_indicator(current_user, commitment, ci.id)
    except CommitmentError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404)
        flash(error.message, "warning")
        return redirect(url_for("commitments.measurements", ci_id=ci_id))
    db.session.commit()
    flash(_("“%(name)s” is no longer attached to this commitment.", name=name), "success")
    return redirect(url_for("commitments.view", commitment_id=commitment.id) + "#indicators")


# --- measurements ------------------------------------------------------------------------

@bp.route("/commitment-indicators/<int:ci_id>/measurements", methods=["GET", "POST"])
@login_required
def measurements(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    form = MeasurementForm(today=site_today(commitment))
    if request.method == "GET":
        form.commitment_indicator.data = str(ci.id)
    extra: list[str] = []
    if form.validate_on_submit():
        target_id = form.indicator_id(default=ci.id)
        if target_id != ci.id:
            # The form names another attached indicator than the page: forged or stale.
            abort(404)
        try:
            services.add_measurement(current_user, commitment, target_id, form.values())
        except CommitmentError as error:
            db.session.rollback()
            commitment, ci = _indicator_or_404(ci_id)
            extra = _show_error(form, error)
        else:
            db.session.commit()
            flash(_("The measurement is recorded."), "success")
            return redirect(url_for("commitments.measurements", ci_id=ci.id))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/indicators/measurements.html", form=form,
                           commitment=commitment, ci=ci, chart=charts.commitment_indicator_chart(ci),
                           extra_errors=extra, empty_form=EmptyForm(formdata=None)), status


@bp.route("/measurements/<int:measurement_id>/delete", methods=["POST"])
@login_required
def delete_measurement(measurement_id: int):
    commitment_id = db.session.scalar(
        select(CommitmentIndicator.commitment_id)
        .join(Measurement, Measurement.commitment_indicator_id == CommitmentIndicator.id)
        .where(Measurement.id == measurement_id))
    commitment = _manageable(commitment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        ci = services.delete_measurement(current_user, commitment, measurement_id)
    except CommitmentError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404)
        raise
    ci_id = ci.id
    db.session.commit()
    flash(_("The measurement is deleted."), "success")
    return redirect(url_for("commitments.measurements", ci_id=ci_id))

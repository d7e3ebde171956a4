"""Routes of the commitments blueprint: indicators on a commitment (attach, baseline and
target, remove) and their measurements. Thin: parse the form, call one service in
charter/commitments/indicators.py, render or redirect (the request layer commits,
charter.transaction).

Also registers the template filters the commitment page's indicator section uses
(`|indicator_chart`, `|chart_number`), since section templates get no extra context.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from charter import charts, permissions
from charter.commitments import bp, indicators, queries
from charter.commitments.indicator_forms import AttachIndicatorForm, EditTargetsForm, MeasurementForm
from charter.commitments.updates import site_today
from charter.extensions import db
from charter.forms_common import EmptyForm
from charter.lookups import visible_or_404
from charter.models import Commitment, CommitmentIndicator, Measurement
from charter.rules import RuleError
from charter.transaction import perform, submit


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
    return visible_or_404(queries.load_commitment(commitment_id) if commitment_id else None,
                          permissions.can_view_commitment,
                          permissions.can_manage_commitment_indicators)


def _indicator_or_404(ci_id: int) -> tuple[Commitment, CommitmentIndicator]:
    """The commitment and its attached indicator (a RuleError 404 when it is not one of the
    commitment's: errors.py shows the 404 page)."""
    commitment_id = db.session.scalar(
        select(CommitmentIndicator.commitment_id).where(CommitmentIndicator.id == ci_id))
    commitment = _manageable(commitment_id)
    return commitment, indicators.indicator_of(commitment, ci_id)


def _found(service, *args, **kwargs):
    """Call `service`; a record it cannot find (a stale or forged form) is the 404 page, not a
    message beside the form."""
    try:
        return service(*args, **kwargs)
    except RuleError as error:
        if error.status == 404:
            abort(404)
        raise


# --- attaching -------------------------------------------------------------------------

@bp.route("/commitments/<int:commitment_id>/indicators/new", methods=["GET", "POST"])
@login_required
def add_indicator(commitment_id: int):
    commitment = _manageable(commitment_id)
    form = AttachIndicatorForm(catalogue=indicators.attachable_catalogue())
    outcome = submit(form, lambda: indicators.attach_indicator(
        current_user, commitment, catalogue_id=form.catalogue_id(), own=form.own(),
        targets=form.targets()))
    if outcome:
        flash(_("“%(name)s” is attached. Record its measurements below.",
                name=outcome.result.indicator.name), "success")
        return redirect(url_for("commitments.measurements", ci_id=outcome.result.id))
    return render_template("commitments/indicators/attach.html", form=form, commitment=commitment,
                           extra_errors=outcome.errors), outcome.status


def _show_targets(form: EditTargetsForm, ci: CommitmentIndicator) -> None:
    form.baseline_value.data = indicators.number_text(ci.baseline_value) or ""
    form.baseline_date.data = ci.baseline_date
    form.target_value.data = indicators.number_text(ci.target_value) or ""
    form.target_date.data = ci.target_date
    form.state.data = indicators.state_token(ci)


@bp.route("/commitment-indicators/<int:ci_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    form = EditTargetsForm()
    if request.method == "GET":
        _show_targets(form, ci)
    outcome = submit(form, lambda: _found(indicators.update_targets, current_user, commitment, ci.id,
                                          form.targets(), expected_state=form.state.data))
    if outcome:
        flash(_("The baseline and target of “%(name)s” are saved.", name=ci.indicator.name),
              "success")
        return redirect(url_for("commitments.view", commitment_id=commitment.id) + "#indicators")
    if request.method == "POST":  # nothing was kept: show the indicator as it is now
        commitment, ci = _indicator_or_404(ci_id)
    if outcome.conflict:
        form.state.data = indicators.state_token(ci)
    return render_template("commitments/indicators/edit.html", form=form, commitment=commitment,
                           ci=ci, extra_errors=outcome.errors,
                           conflict=outcome.conflict is not None), outcome.status


@bp.route("/commitment-indicators/<int:ci_id>/remove", methods=["POST"])
@login_required
def remove_indicator(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = ci.indicator.name
    _result, refused = perform(
        lambda: _found(indicators.remove_indicator, current_user, commitment, ci.id))
    if refused:
        flash(refused, "warning")
        return redirect(url_for("commitments.measurements", ci_id=ci_id))
    flash(_("“%(name)s” is no longer attached to this commitment.", name=name), "success")
    return redirect(url_for("commitments.view", commitment_id=commitment.id) + "#indicators")


# --- measurements ------------------------------------------------------------------------

def _add_measurement(commitment: Commitment, ci: CommitmentIndicator, form: MeasurementForm):
    if form.indicator_id(default=ci.id) != ci.id:
        # The form names another attached indicator than the page: forged or stale.
        abort(404)
    return _found(indicators.add_measurement, current_user, commitment, ci.id, form.values())


@bp.route("/commitment-indicators/<int:ci_id>/measurements", methods=["GET", "POST"])
@login_required
def measurements(ci_id: int):
    commitment, ci = _indicator_or_404(ci_id)
    form = MeasurementForm(today=site_today(commitment))
    if request.method == "GET":
        form.commitment_indicator.data = str(ci.id)
    outcome = submit(form, lambda: _add_measurement(commitment, ci, form))
    if outcome:
        flash(_("The measurement is recorded."), "success")
        return redirect(url_for("commitments.measurements", ci_id=ci.id))
    if request.method == "POST":  # nothing was kept: show the indicator as it is now
        commitment, ci = _indicator_or_404(ci_id)
    return render_template("commitments/indicators/measurements.html", form=form,
                           commitment=commitment, ci=ci, chart=charts.commitment_indicator_chart(ci),
                           extra_errors=outcome.errors,
                           empty_form=EmptyForm(formdata=None)), outcome.status


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
    ci = indicators.delete_measurement(current_user, commitment, measurement_id)
    flash(_("The measurement is deleted."), "success")
    return redirect(url_for("commitments.measurements", ci_id=ci.id))

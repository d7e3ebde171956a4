"""The indicator catalogue: the public page (/indicators) and admins' management
(/admin/indicators…). Rules live in charter/catalogue/indicators.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.catalogue import bp, indicators
from charter.catalogue.forms import IndicatorDefinitionForm
from charter.forms_common import EmptyForm
from charter.models import Direction, Indicator
from charter.transaction import perform_and_say, submit


@bp.route("/indicators", endpoint="catalogue")
def catalogue_index():
    listed, usage = indicators.public_catalogue()
    return render_template("catalogue/indicators/index.html", indicators=listed, usage=usage)


# --- admins -----------------------------------------------------------------------------
# The whole of /admin/indicators answers 403 to anyone who does not manage the catalogue,
# before looking anything up; an unknown indicator (or an organisation's own) is then 404.

def _require_manager() -> None:
    if not permissions.can_manage_indicator_catalogue(current_user):
        abort(403)


def _catalogue_indicator_or_404(indicator_id: int) -> Indicator:
    """A catalogue indicator (organisations' own ones are not managed here: 404)."""
    _require_manager()
    indicator = indicators.catalogue_indicator(indicator_id)
    if indicator is None:
        abort(404)
    return indicator


def _values(form: IndicatorDefinitionForm) -> indicators.IndicatorValues:
    return indicators.IndicatorValues(
        name=form.name.data or "", unit=form.unit.data or "",
        direction=Direction(form.direction.data), definition=form.definition.data or "",
        reference=form.reference.data or "", is_active=bool(form.is_active.data),
    )


@bp.route("/admin/indicators")
@login_required
def admin_indicators():
    _require_manager()
    return render_template(
        "catalogue/indicators/admin_list.html",
        indicators=indicators.catalogue(include_retired=True), usage=indicators.usage_counts(),
        own=indicators.own_indicators_page(readers.page_arg()),
    )


@bp.route("/admin/indicators/new", methods=["GET", "POST"])
@login_required
def new_indicator():
    _require_manager()
    form = IndicatorDefinitionForm()
    outcome = submit(form, lambda: indicators.create_indicator(current_user, _values(form)))
    if outcome:
        flash(_("“%(name)s” is added to the catalogue.", name=outcome.result.name), "success")
        return redirect(url_for("catalogue.admin_indicators"))
    return render_template("catalogue/indicators/form.html", form=form, indicator=None,
                           extra_errors=outcome.errors), outcome.status


@bp.route("/admin/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator_definition(indicator_id: int):
    indicator = _catalogue_indicator_or_404(indicator_id)
    form = IndicatorDefinitionForm(obj=None if request.method == "POST" else indicator)
    if request.method == "GET":
        form.direction.data = indicator.direction.value
        form.loaded.data = indicators.fingerprint(indicator)
    outcome = submit(form, lambda: indicators.update_indicator(
        current_user, indicator, _values(form), form.loaded_fingerprint))
    if outcome:
        flash(_("Your changes to “%(name)s” are saved.", name=indicator.name), "success")
        return redirect(url_for("catalogue.admin_indicators"))
    if outcome.conflict:
        return _conflict_page(form, indicator_id)
    # Loaded again: a refused save was rolled back.
    return render_template("catalogue/indicators/form.html", form=form,
                           indicator=indicators.catalogue_indicator(indicator_id) or abort(404),
                           extra_errors=outcome.errors), outcome.status


def _conflict_page(form: IndicatorDefinitionForm, indicator_id: int):
    """Someone saved the indicator since this form was loaded: show theirs beside this one."""
    current = indicators.catalogue_indicator(indicator_id)
    if current is None:
        abort(404)
    form.loaded.data = indicators.fingerprint(current)
    return render_template("catalogue/indicators/conflict.html", form=form, current=current), 409


def _indicator_action(indicator_id: int, action, success):
    """Run a button's action; `success(name)` is the message when it worked."""
    indicator = _catalogue_indicator_or_404(indicator_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = indicator.name
    perform_and_say(lambda: action(current_user, indicator), success(name))
    return redirect(url_for("catalogue.admin_indicators"))


# Endpoint names say "catalogue": the indicators on commitments have routes of their own.
@bp.route("/admin/indicators/<int:indicator_id>/retire", methods=["POST"],
          endpoint="retire_catalogue_indicator")
@login_required
def retire_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, indicators.retire_indicator, lambda name: _(
        "“%(name)s” is retired: it stays on the commitments that use it, and cannot be newly "
        "attached.", name=name))


@bp.route("/admin/indicators/<int:indicator_id>/restore", methods=["POST"],
          endpoint="restore_catalogue_indicator")
@login_required
def restore_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, indicators.restore_indicator, lambda name: _(
        "“%(name)s” is active again: it can be attached to commitments.", name=name))


@bp.route("/admin/indicators/<int:indicator_id>/delete", methods=["POST"],
          endpoint="delete_catalogue_indicator")
@login_required
def delete_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, indicators.delete_indicator,
                             lambda name: _("“%(name)s” is deleted from the catalogue.", name=name))

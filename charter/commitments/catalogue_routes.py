"""The indicator catalogue: the public page (/indicators) and admins' management
(/admin/indicators…). Rules live in charter/commitments/catalogue.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.commitments import bp, catalogue
from charter.commitments.domain_forms import IndicatorDefinitionForm
from charter.commitments.forms import EmptyForm
from charter.extensions import db
from charter.models import Direction, Indicator
from charter.rules import attach_error


@bp.route("/indicators", endpoint="catalogue")
def catalogue_index():
    indicators, usage = catalogue.public_catalogue()
    return render_template("commitments/catalogue/index.html", indicators=indicators, usage=usage)


# --- admins -----------------------------------------------------------------------------

def _require_manager() -> None:
    if not permissions.can_manage_indicator_catalogue(current_user):
        abort(403)


def _catalogue_indicator_or_404(indicator_id: int) -> Indicator:
    """A catalogue indicator (organisations' own ones are not managed here: 404)."""
    _require_manager()
    indicator = catalogue.catalogue_indicator(indicator_id)
    if indicator is None:
        abort(404)
    return indicator


def _values(form: IndicatorDefinitionForm) -> catalogue.IndicatorValues:
    return catalogue.IndicatorValues(
        name=form.name.data or "", unit=form.unit.data or "",
        direction=Direction(form.direction.data), definition=form.definition.data or "",
        reference=form.reference.data or "", is_active=bool(form.is_active.data),
    )



@bp.route("/admin/indicators")
@login_required
def admin_indicators():
    _require_manager()
    return render_template(
        "commitments/catalogue/admin_list.html",
        indicators=catalogue.catalogue(include_retired=True), usage=catalogue.usage_counts(),
        own=catalogue.own_indicators_page(readers.page_arg()),
    )


@bp.route("/admin/indicators/new", methods=["GET", "POST"])
@login_required
def new_indicator():
    _require_manager()
    form = IndicatorDefinitionForm()
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            created = catalogue.create_indicator(current_user, _values(form))
        except catalogue.CatalogueError as error:
            db.session.rollback()
            extra = attach_error(form, error)
        else:
            db.session.commit()
            flash(_("“%(name)s” is added to the catalogue.", name=created.name), "success")
            return redirect(url_for("commitments.admin_indicators"))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/catalogue/form.html", form=form, indicator=None,
                           extra_errors=extra), status


@bp.route("/admin/indicators/<int:indicator_id>/edit", methods=["GET", "POST"])
@login_required
def edit_indicator_definition(indicator_id: int):
    indicator = _catalogue_indicator_or_404(indicator_id)
    form = IndicatorDefinitionForm(obj=None if request.method == "POST" else indicator)
    if request.method == "GET":
        form.direction.data = indicator.direction.value
        form.loaded.data = catalogue.fingerprint(indicator)
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            catalogue.update_indicator(current_user, indicator, _values(form), form.loaded_fingerprint)
        except catalogue.EditConflict:
            db.session.rollback()
            current = catalogue.catalogue_indicator(indicator_id)
            if current is None:
                abort(404)
            form.loaded.data = catalogue.fingerprint(current)
            return render_template("commitments/catalogue/conflict.html", form=form,
                                   current=current), 409
        except catalogue.CatalogueError as error:
            db.session.rollback()
            extra = attach_error(form, error)
            indicator = catalogue.catalogue_indicator(indicator_id) or abort(404)
        else:
            db.session.commit()
            flash(_("Your changes to “%(name)s” are saved.", name=indicator.name), "success")
            return redirect(url_for("commitments.admin_indicators"))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/catalogue/form.html", form=form, indicator=indicator,
                           extra_errors=extra), status


def _indicator_action(indicator_id: int, action, success):
    """Run a button's action; `success(name)` is the message when it worked."""
    indicator = _catalogue_indicator_or_404(indicator_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = indicator.name
    try:
        action(current_user, indicator)
    except catalogue.CatalogueError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(success(name), "success")
    return redirect(url_for("commitments.admin_indicators"))


# Endpoint names say "catalogue": the indicators on commitments have routes of their own.
@bp.route("/admin/indicators/<int:indicator_id>/retire", methods=["POST"],
          endpoint="retire_catalogue_indicator")
@login_required
def retire_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, catalogue.retire_indicator, lambda name: _(
        "“%(name)s” is retired: it stays on the commitments that use it, and cannot be newly "
        "attached.", name=name))


@bp.route("/admin/indicators/<int:indicator_id>/restore", methods=["POST"],
          endpoint="restore_catalogue_indicator")
@login_required
def restore_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, catalogue.restore_indicator, lambda name: _(
        "“%(name)s” is active again: it can be attached to commitments.", name=name))


@bp.route("/admin/indicators/<int:indicator_id>/delete", methods=["POST"],
          endpoint="delete_catalogue_indicator")
@login_required
def delete_catalogue_indicator(indicator_id: int):
    return _indicator_action(indicator_id, catalogue.delete_indicator,
                             lambda name: _("“%(name)s” is deleted from the catalogue.", name=name))

"""Change domains: the public pages (/domains, /domains/<slug>) and admins' management
(/admin/domains…). Rules live in charter/commitments/domains.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.commitments import bp, domains
from charter.commitments.domain_forms import DomainForm
from charter.commitments.forms import EmptyForm
from charter.extensions import db
from charter.models import ChangeDomain
from charter.rules import attach_error

# --- public -----------------------------------------------------------------------------


@bp.route("/domains", endpoint="domains")
def domains_index():
    return render_template("commitments/domains/index.html", overview=domains.public_overview())


@bp.route("/domains/<slug>")
def domain(slug: str):
    domain_obj = domains.domain_by_slug(slug)
    if domain_obj is None:
        abort(404)
    site_slug = request.args.get("site", "").strip()[:40]
    listing = domains.domain_commitments(domain_obj, site_slug=site_slug or None, page=readers.page_arg())
    unknown_site = bool(site_slug) and listing.site is None
    return render_template("commitments/domains/domain.html", domain=domain_obj, listing=listing,
                           unknown_site=unknown_site, site_slug=site_slug)


# --- admins -----------------------------------------------------------------------------

def _require_manager() -> None:
    if not permissions.can_manage_domains(current_user):
        abort(403)


def _managed_domain_or_404(domain_id: int) -> ChangeDomain:
    _require_manager()
    domain_obj = db.session.get(ChangeDomain, domain_id)
    if domain_obj is None:
        abort(404)
    return domain_obj


def _values(form: DomainForm) -> domains.DomainValues:
    return domains.DomainValues(
        name=form.name.data or "", summary=form.summary.data or "",
        description=form.description.data or "", source_note=form.source_note.data or "",
        position=form.position.data, is_active=bool(form.is_active.data),
    )



@bp.route("/admin/domains")
@login_required
def admin_domains():
    _require_manager()
    return render_template("commitments/domains/admin_list.html", domains=domains.all_domains(),
                           usage=domains.usage_counts())


@bp.route("/admin/domains/new", methods=["GET", "POST"])
@login_required
def new_domain():
    _require_manager()
    form = DomainForm()
    if request.method == "GET":
        form.position.data = domains.next_position()
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            created = domains.create_domain(current_user, _values(form))
        except domains.DomainError as error:
            db.session.rollback()
            extra = attach_error(form, error)
        else:
            db.session.commit()
            flash(_("“%(name)s” is added. Its public page is /domains/%(slug)s.",
                    name=created.name, slug=created.slug), "success")
            return redirect(url_for("commitments.admin_domains"))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/domains/form.html", form=form, domain=None,
                           extra_errors=extra), status


@bp.route("/admin/domains/<int:domain_id>/edit", methods=["GET", "POST"])
@login_required
def edit_domain(domain_id: int):
    domain_obj = _managed_domain_or_404(domain_id)
    form = DomainForm(obj=None if request.method == "POST" else domain_obj)
    if request.method == "GET":
        form.loaded.data = domains.fingerprint(domain_obj)
    extra: list[str] = []
    if form.validate_on_submit():
        try:
            domains.update_domain(current_user, domain_obj, _values(form), form.loaded_fingerprint)
        except domains.EditConflict:
            db.session.rollback()
            current = db.session.get(ChangeDomain, domain_id)
            if current is None:
                abort(404)
            form.loaded.data = domains.fingerprint(current)
            return render_template("commitments/domains/conflict.html", form=form,
                                   current=current), 409
        except domains.DomainError as error:
            db.session.rollback()
            extra = attach_error(form, error)
            domain_obj = db.session.get(ChangeDomain, domain_id)
        else:
            db.session.commit()
            flash(_("Your changes to “%(name)s” are saved.", name=domain_obj.name), "success")
            return redirect(url_for("commitments.admin_domains"))
    status = 400 if request.method == "POST" else 200
    return render_template("commitments/domains/form.html", form=form, domain=domain_obj,
                           extra_errors=extra), status


def _domain_action(domain_id: int, action, success):
    """Run a button's action; `success(name)` is the message when it worked."""
    domain_obj = _managed_domain_or_404(domain_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = domain_obj.name
    try:
        action(current_user, domain_obj)
    except domains.DomainError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(success(name), "success")
    return redirect(url_for("commitments.admin_domains"))


@bp.route("/admin/domains/<int:domain_id>/retire", methods=["POST"])
@login_required
def retire_domain(domain_id: int):
    return _domain_action(domain_id, domains.retire_domain, lambda name: _(
        "“%(name)s” is retired: it stays on the commitments that use it, and cannot be "
        "chosen for new ones.", name=name))


@bp.route("/admin/domains/<int:domain_id>/restore", methods=["POST"])
@login_required
def restore_domain(domain_id: int):
    return _domain_action(domain_id, domains.restore_domain, lambda name: _(
        "“%(name)s” is active again: it can be chosen for new commitments.", name=name))


@bp.route("/admin/domains/<int:domain_id>/delete", methods=["POST"])
@login_required
def delete_domain(domain_id: int):
    return _domain_action(domain_id, domains.delete_domain,
                          lambda name: _("“%(name)s” is deleted.", name=name))

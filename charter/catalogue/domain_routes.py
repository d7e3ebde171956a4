"""Change domains: the public pages (/domains, /domains/<slug>) and admins' management
(/admin/domains…). Rules live in charter/catalogue/domains.py."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.catalogue import bp, domains
from charter.catalogue.forms import DomainForm
from charter.extensions import db
from charter.forms_common import EmptyForm
from charter.models import ChangeDomain
from charter.transaction import perform_and_say, submit

# --- public -----------------------------------------------------------------------------


@bp.route("/domains", endpoint="domains")
def domains_index():
    return render_template("catalogue/domains/index.html", overview=domains.public_overview())


@bp.route("/domains/<slug>")
def domain(slug: str):
    domain_obj = domains.domain_by_slug(slug)
    if domain_obj is None:
        abort(404)
    site_slug = request.args.get("site", "").strip()[:40]
    listing = domains.domain_commitments(domain_obj, site_slug=site_slug or None, page=readers.page_arg(),
                                         after=request.args.get("after"),
                                         before=request.args.get("before"))
    unknown_site = bool(site_slug) and listing.site is None
    return render_template("catalogue/domains/domain.html", domain=domain_obj, listing=listing,
                           unknown_site=unknown_site, site_slug=site_slug)


# --- admins -----------------------------------------------------------------------------
# The whole of /admin/domains answers 403 to anyone who does not manage domains, before
# looking anything up; an unknown domain is then 404.

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
    return render_template("catalogue/domains/admin_list.html", domains=domains.all_domains(),
                           usage=domains.usage_counts())


@bp.route("/admin/domains/new", methods=["GET", "POST"])
@login_required
def new_domain():
    _require_manager()
    form = DomainForm()
    if request.method == "GET":
        form.position.data = domains.next_position()
    outcome = submit(form, lambda: domains.create_domain(current_user, _values(form)))
    if outcome:
        flash(_("“%(name)s” is added. Its public page is /domains/%(slug)s.",
                name=outcome.result.name, slug=outcome.result.slug), "success")
        return redirect(url_for("catalogue.admin_domains"))
    return render_template("catalogue/domains/form.html", form=form, domain=None,
                           extra_errors=outcome.errors), outcome.status


@bp.route("/admin/domains/<int:domain_id>/edit", methods=["GET", "POST"])
@login_required
def edit_domain(domain_id: int):
    domain_obj = _managed_domain_or_404(domain_id)
    form = DomainForm(obj=None if request.method == "POST" else domain_obj)
    if request.method == "GET":
        form.loaded.data = domains.fingerprint(domain_obj)
    outcome = submit(form, lambda: domains.update_domain(current_user, domain_obj, _values(form),
                                                         form.loaded_fingerprint))
    if outcome:
        flash(_("Your changes to “%(name)s” are saved.", name=domain_obj.name), "success")
        return redirect(url_for("catalogue.admin_domains"))
    if outcome.conflict:
        return _conflict_page(form, domain_id)
    # Loaded again: a refused save was rolled back.
    return render_template("catalogue/domains/form.html", form=form,
                           domain=db.session.get(ChangeDomain, domain_id),
                           extra_errors=outcome.errors), outcome.status


def _conflict_page(form: DomainForm, domain_id: int):
    """Someone saved the domain since this form was loaded: show theirs beside this one."""
    current = db.session.get(ChangeDomain, domain_id)
    if current is None:
        abort(404)
    form.loaded.data = domains.fingerprint(current)
    return render_template("catalogue/domains/conflict.html", form=form, current=current), 409


def _domain_action(domain_id: int, action, success):
    """Run a button's action; `success(name)` is the message when it worked."""
    domain_obj = _managed_domain_or_404(domain_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = domain_obj.name
    perform_and_say(lambda: action(current_user, domain_obj), success(name))
    return redirect(url_for("catalogue.admin_domains"))


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

"""Site pages and charter versions (public reading, coordinator authoring)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from charter import permissions, readers
from charter.forms_common import VersionForm
from charter.lookups import site_or_404
from charter.models import CharterStatus, CharterVersion, Site
from charter.signing import queries
from charter.sites import bp, services
from charter.sites import diff as textdiff
from charter.sites.forms import DraftForm, EditDraftForm
from charter.text import render_markdown
from charter.transaction import perform, submit

# --- public pages ---------------------------------------------------------------------


@bp.route("/sites/<slug>")
def site(slug: str):
    from charter.dashboards import metrics  # the dashboards section (templates/sites/_dashboards.html)

    overview = services.site_overview(site_or_404(slug), counts={})
    dash = metrics.site_view(overview.site)  # it counts signatories by sector and tier: reused
    counts = services.counts_from_dashboard(dash.get("sectors") or {})
    services.with_counts(overview, services.signatory_counts(overview.site) if counts is None
                         else counts)
    return render_template(
        "sites/site.html", o=overview, site=overview.site,
        can_manage=permissions.can_manage_charter(current_user, overview.site), dash=dash,
    )


def _charter_page(site_obj: Site | None):
    if site_obj is None:
        return render_template("sites/no_sites.html")
    overview = services.charter_overview(current_user, site_obj)
    return render_template("sites/charter.html", o=overview, site=site_obj)


@bp.route("/charter")
def current_charter():
    return _charter_page(services.default_site())


@bp.route("/sites/<slug>/charter")
def charter(slug: str):
    return _charter_page(site_or_404(slug))


def _visible_version_or_404(site_obj: Site, number: int) -> CharterVersion:
    version = services.visible_version(current_user, site_obj, number)
    if version is None:
        abort(404)
    return version


@bp.route("/sites/<slug>/charter/v<int:number>")
def version(slug: str, number: int):
    site_obj = site_or_404(slug)
    version_obj = _visible_version_or_404(site_obj, number)
    previous = services.visible_version(current_user, site_obj, number - 1) if number > 1 else None
    open_version = None
    if version_obj.status != CharterStatus.OPEN:
        open_version = queries.open_version(site_obj.id)
    counts = services.signature_counts([version_obj.id])
    return render_template(
        "sites/version.html", site=site_obj, v=version_obj, previous=previous,
        open_version=open_version, signed_by=counts.get(version_obj.id, 0),
        can_manage=permissions.can_manage_charter(current_user, site_obj),
    )


@bp.route("/sites/<slug>/charter/v<int:number>.md")
def version_markdown(slug: str, number: int):
    """The exact text whose SHA-256 is published, for anyone to check."""
    version_obj = _visible_version_or_404(site_or_404(slug), number)
    response = Response(version_obj.body_markdown, mimetype="text/markdown")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = (
        f'inline; filename="{version_obj.site.slug}-charter-v{version_obj.number}.md"'
    )
    return response


def _version_number(raw: str | None) -> tuple[int | None, str | None]:
    """A version number from the query string, or the message saying what is wrong."""
    value = (raw or "").strip().lower().removeprefix("v")
    if not value:
        return None, _("Choose two versions to compare.")
    try:
        return readers.read_int(value, 0, services.MAX_NUMBER, signed=False), None
    except readers.ReadError as exc:
        if not exc.out_of_range:
            return None, _("Version numbers are whole numbers, such as 1 or 2.")
    # Very large numbers name no version (and must not reach the database as integers).
    return services.MAX_NUMBER + 1, None


@bp.route("/sites/<slug>/charter/diff")
def diff(slug: str):
    site_obj = site_or_404(slug)
    choices = services.versions_of(
        site_obj, include_drafts=permissions.can_manage_charter(current_user, site_obj))
    old_number, old_problem = _version_number(request.args.get("from"))
    new_number, new_problem = _version_number(request.args.get("to"))
    problem = old_problem or new_problem
    if problem is None and old_number == new_number:
        problem = _("Choose two different versions to compare.")
    if problem:
        return render_template(
            "sites/diff.html", site=site_obj, choices=choices, problem=problem,
            old_number=old_number, new_number=new_number,
        ), 400
    old = _visible_version_or_404(site_obj, old_number)
    new = _visible_version_or_404(site_obj, new_number)
    return render_template(
        "sites/diff.html", site=site_obj, choices=choices, problem=None, old=old, new=new,
        old_number=old_number, new_number=new_number,
        result=textdiff.diff_texts(old.body_markdown, new.body_markdown),
    )


# --- coordinators ---------------------------------------------------------------------

def _managed_site_or_abort(slug: str) -> Site:
    """The site, when the signed-in user manages its charter (403 otherwise: the site is
    public, so refusing says nothing it does not already show)."""
    site_obj = site_or_404(slug)
    if not permissions.can_manage_charter(current_user, site_obj):
        abort(403)
    return site_obj


def _managed_version_or_404(site_obj: Site, number: int) -> CharterVersion:
    version_obj = services.find_version(site_obj, number)
    if version_obj is None:
        abort(404)
    return version_obj



@bp.route("/manage/sites/<slug>/charter")
@login_required
def manage_charter(slug: str):
    site_obj = _managed_site_or_abort(slug)
    versions = services.versions_of(site_obj, include_drafts=True)
    counts = services.signature_counts([v.id for v in versions])
    return render_template(
        "sites/manage.html", site=site_obj, versions=versions, counts=counts,
        draft=next((v for v in versions if v.status == CharterStatus.DRAFT), None),
    )


def _fill(form, **values) -> None:
    for name, value in values.items():
        form[name].data = value


def _draft_page(site_obj: Site, form, outcome, *, latest=None, draft=None, editing=None):
    """The draft form again: a preview when one was asked for (and the text is valid),
    else the problems, with the outcome's status."""
    preview = None
    if outcome:  # done, but not saved: a preview
        preview = render_markdown(services.normalise_body(form.body.data))
    number = editing.number if editing else (draft.number if draft else services.next_number(site_obj))
    return render_template(
        "sites/draft_form.html", site=site_obj, form=form, preview=preview, latest=latest,
        number=number, editing=editing, existing_draft=draft, extra_errors=outcome.errors,
    ), outcome.status


@bp.route("/manage/sites/<slug>/charter/new", methods=["GET", "POST"])
@login_required
def new_version(slug: str):
    site_obj = _managed_site_or_abort(slug)
    draft = services.current_draft(site_obj)
    if draft is not None and request.method == "GET":
        flash(_("Version %(n)d is already being drafted: carry on with it here (or delete it to "
                "start again).", n=draft.number), "info")
        return redirect(url_for("sites.edit_version", slug=site_obj.slug, number=draft.number))
    latest = services.latest_published(site_obj)
    form = DraftForm(summary_required=latest is not None)
    if request.method == "GET" and latest is not None:  # start from the latest text
        _fill(form, title=latest.title, body=latest.body_markdown)
    # A valid form sent with "Preview" is done without saving anything: the preview shows.
    outcome = submit(form, lambda: services.create_draft(
        current_user, site_obj, form.title.data, form.body.data, form.change_summary.data or "",
    ) if form.wants_save else None)
    if outcome and form.wants_save:
        flash(_("Version %(n)d is saved as a draft. Only coordinators can see it until you open "
                "it for signature.", n=outcome.result.number), "success")
        return redirect(url_for("sites.edit_version", slug=site_obj.slug,
                                number=outcome.result.number))
    if request.method == "POST" and not outcome:  # the draft there is now, if any
        draft = services.current_draft(site_obj)
    return _draft_page(site_obj, form, outcome, latest=latest, draft=draft)


@bp.route("/manage/sites/<slug>/charter/<int:number>/edit", methods=["GET", "POST"])
@login_required
def edit_version(slug: str, number: int):
    site_obj = _managed_site_or_abort(slug)
    version_obj = _managed_version_or_404(site_obj, number)
    if version_obj.status != CharterStatus.DRAFT:
        return render_template(
            "sites/refused.html", site=site_obj, v=version_obj,
            message=services.NotADraft(version_obj).message,
        ), 409
    form = EditDraftForm(summary_required=services.needs_change_summary(site_obj, number))
    if request.method == "GET":
        _fill(form, title=version_obj.title, body=version_obj.body_markdown,
              change_summary=version_obj.change_summary, version=version_obj.version)
    outcome = submit(form, lambda: services.update_draft(
        current_user, version_obj, form.version.data, form.title.data, form.body.data,
        form.change_summary.data or "",
    ) if form.wants_save else None)
    if outcome and form.wants_save:
        flash(_("Draft version %(n)d is saved.", n=version_obj.number), "success")
        return redirect(url_for("sites.edit_version", slug=site_obj.slug,
                                number=version_obj.number))
    if outcome.conflict:
        return _conflict_page(site_obj, form, outcome.conflict)
    return _draft_page(site_obj, form, outcome, editing=version_obj)


def _conflict_page(site_obj: Site, form, conflict):
    """Both texts, after someone else saved the draft. Saving again from here is a
    deliberate choice to replace the other text: the form now carries the version shown."""
    current = conflict.current
    form.version.data = current.version
    return render_template(
        "sites/conflict.html", site=site_obj, v=current, form=form,
        extra_errors=[conflict.message],
        result=textdiff.diff_texts(current.body_markdown,
                                   services.normalise_body(form.body.data), context=None),
    ), 409


def _version_action(slug: str, number: int, action):
    site_obj = _managed_site_or_abort(slug)
    version_obj = _managed_version_or_404(site_obj, number)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    result, refused = perform(lambda: action(version_obj, form.version.data))
    if refused is not None:
        flash(refused, "warning")
        return redirect(url_for("sites.manage_charter", slug=site_obj.slug), 303)
    return site_obj, version_obj, result


@bp.route("/manage/sites/<slug>/charter/<int:number>/open", methods=["POST"])
@login_required
def open_version(slug: str, number: int):
    result = _version_action(
        slug, number, lambda v, loaded: services.open_for_signature(current_user, v, loaded))
    if not isinstance(result, tuple):
        return result
    site_obj, version_obj, invited = result
    flash(_("Version %(n)d is open for signature.", n=version_obj.number), "success")
    if invited:
        flash(ngettext("%(num)d lead of an organisation that signed an earlier version was "
                       "invited to re-affirm.",
                       "%(num)d leads of organisations that signed an earlier version were "
                       "invited to re-affirm.", invited), "info")
    return redirect(url_for("sites.manage_charter", slug=site_obj.slug))


@bp.route("/manage/sites/<slug>/charter/<int:number>/delete", methods=["POST"])
@login_required
def delete_draft(slug: str, number: int):
    result = _version_action(
        slug, number, lambda v, loaded: services.delete_draft(current_user, v, loaded))
    if not isinstance(result, tuple):
        return result
    site_obj, version_obj, _unused = result
    flash(_("Draft version %(n)d is deleted.", n=number), "success")
    return redirect(url_for("sites.manage_charter", slug=site_obj.slug))

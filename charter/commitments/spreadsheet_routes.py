"""Routes of the commitments blueprint: the spreadsheet round trip.

Downloads of an organisation's commitments and measurements (XLSX, CSV), and the upload:
check the file, show what it would change, save it only when the person confirms."""

from __future__ import annotations

from datetime import date

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from charter import permissions
from charter.commitments import bp, spreadsheets
from charter.commitments.spreadsheet_forms import ConfirmForm, UploadForm
from charter.errors import render_error
from charter.lookups import organisation_or_404, visible_or_404
from charter.models import Organisation
from charter.transaction import abandon

MAX_ERRORS_SHOWN = 500
MAX_CHANGES_SHOWN = 200
UPLOAD_LIMITS = {"size": spreadsheets.megabytes(spreadsheets.MAX_UPLOAD_BYTES),
                 "rows": f"{spreadsheets.MAX_DATA_ROWS:,}"}


def _organisation_for(slug: str, allowed) -> Organisation:
    """The organisation if this user may do this to it: 404 when they may not even see it,
    403 when they see it but may not."""
    return visible_or_404(organisation_or_404(slug), permissions.can_view_organisation, allowed)


def _download(content: bytes, filename: str, mimetype: str):
    response = make_response(content)
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Drafts are in the file: never keep it in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _filename(org: Organisation, what: str, extension: str) -> str:
    return f"{org.slug}-{what}-{date.today().isoformat()}.{extension}"


@bp.route("/organisations/<slug>/commitments.xlsx")
@login_required
def export_xlsx(slug: str):
    org = _organisation_for(slug, permissions.can_export_commitments)
    content = spreadsheets.export_xlsx(current_user, org)
    return _download(content, _filename(org, "commitments", "xlsx"), spreadsheets.XLSX_MIMETYPE)


@bp.route("/organisations/<slug>/commitments.csv")
@login_required
def export_csv(slug: str):
    org = _organisation_for(slug, permissions.can_export_commitments)
    content = spreadsheets.export_csv(current_user, org)
    return _download(content, _filename(org, "commitments", "csv"), spreadsheets.CSV_MIMETYPE)


@bp.route("/organisations/<slug>/measurements.csv")
@login_required
def export_measurements_csv(slug: str):
    org = _organisation_for(slug, permissions.can_export_commitments)
    content = spreadsheets.export_measurements_csv(current_user, org)
    return _download(content, _filename(org, "measurements", "csv"), spreadsheets.CSV_MIMETYPE)


def _upload_page(org, form, *, problem=None, plan=None, extra_errors=None, status=200):
    errors = plan.errors if plan is not None else []
    return render_template(
        "commitments/spreadsheets/import.html", org=org, form=form, problem=problem,
        errors=errors[:MAX_ERRORS_SHOWN], error_count=len(errors), extra_errors=extra_errors or [],
        errors_cut=plan is not None and plan.errors_cut, upload_limits=UPLOAD_LIMITS,
    ), status


def _file_problem(org, form, problem: spreadsheets.FileProblem):
    form.file.errors = [*form.file.errors, problem.message, *problem.details]
    return _upload_page(org, form, problem=problem, status=400)


def _row_errors(org, form, plan, intro: str):
    count = len(plan.errors)
    if plan.errors_cut:
        message = intro + " " + _("Checking stopped after %(count)s problems: correct them and upload "
                                  "the file again.", count=f"{count:,}")
    else:
        message = intro + " " + ngettext(
            "%(count)s problem found: correct it and upload the file again.",
            "%(count)s problems found: correct them and upload the file again.", count,
            count=f"{count:,}")
    return _upload_page(org, form, plan=plan, extra_errors=[message], status=400)


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(exc):
    """A file larger than the request limit: the upload page says so beside the file field
    (the body was not read, so nothing else in it is looked at). Other pages of the
    blueprint get the usual page."""
    if request.endpoint != "commitments.import_commitments" or not current_user.is_authenticated:
        return render_error(413)
    try:
        org = _organisation_for((request.view_args or {}).get("slug", ""),
                                permissions.can_import_commitments)
    except HTTPException as refused:
        return render_error(refused.code or 404)
    form = UploadForm(formdata=None)
    limit = request.max_content_length or spreadsheets.MAX_UPLOAD_BYTES
    return _file_problem(org, form, spreadsheets.FileProblem(_(
        "This file is larger than %(max)s MB, the most an upload may be. Split it into smaller "
        "files and upload them one after another.", max=spreadsheets.megabytes(limit))))


@bp.route("/organisations/<slug>/commitments/import", methods=["GET", "POST"])
@login_required
def import_commitments(slug: str):
    org = _organisation_for(slug, permissions.can_import_commitments)
    if request.method == "POST" and "token" in request.form:
        return _confirm(org)
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(org, form, status=400 if request.method == "POST" else 200)
    upload = form.file.data
    try:
        preview = spreadsheets.preview_import(current_user, org, upload.filename or "", upload.read())
    except spreadsheets.FileProblem as problem:
        return _file_problem(org, form, problem)
    if not preview.plan.is_valid:
        return _row_errors(org, form, preview.plan, _("Nothing was saved."))
    # The file is kept for its confirmation (the request commits it).
    confirm = ConfirmForm(formdata=None, token=preview.token)
    return render_template("commitments/spreadsheets/preview.html", org=org, preview=preview,
                           plan=preview.plan, confirm=confirm, limit=MAX_CHANGES_SHOWN)


def _confirm(org: Organisation):
    confirm = ConfirmForm()
    form = UploadForm(formdata=None)
    if not confirm.validate_on_submit():
        return _upload_page(org, form, extra_errors=[_(
            "This confirmation could not be checked, so nothing was saved. Upload the file again."
        )], status=400)
    try:
        plan = spreadsheets.confirm_import(current_user, org, confirm.token.data).plan
    except spreadsheets.AlreadyConfirmed as done:
        abandon()
        flash(done.message, "info")
        return _to_profile(org)
    except spreadsheets.ConfirmationRefused as refused:  # (a 409 when measurements clashed)
        return _upload_page(org, form, extra_errors=[refused.message], status=refused.status)
    except spreadsheets.FileProblem as problem:
        return _file_problem(org, form, problem)
    if not plan.is_valid:
        return _row_errors(org, form, plan, _("Nothing was saved: the file was valid when you checked "
                                              "it, but the saved commitments have changed since."))
    if plan.has_changes:
        flash(_("The upload is saved: %(summary)s.", summary="; ".join(plan.summary())), "success")
    else:
        flash(_("The file matches what is saved: nothing needed changing."), "info")
    return _to_profile(org)


def _to_profile(org: Organisation):
    return redirect(url_for("organisations.profile", slug=org.slug) + "#commitments")

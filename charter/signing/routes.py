"""Signing the charter, certificates, verification and withdrawal."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from charter import documents, permissions
from charter.lookups import organisation_or_404, visible_or_404
from charter.models import SignatureState
from charter.permissions import PermissionDenied
from charter.rules import attach_error
from charter.signing import bp, queries, services
from charter.signing.forms import SignForm, VerifyForm, WithdrawForm


def _signature_or_404(signature_id: int):
    signature = services.get_signature(signature_id)
    if signature is None:
        abort(404)
    return signature


def _actor():
    return current_user._get_current_object()


def _details(form: SignForm) -> services.SignatureDetails:
    return services.SignatureDetails(
        version_id=form.version_id_value,
        signer_name=form.signer_name.data,
        signer_job_title=form.signer_job_title.data,
        co_signatory_name=form.co_signatory_name.data,
        co_signatory_role=form.co_signatory_role.data,
        confirmed_authority=bool(form.authority.data),
    )


def _sign_refused(form: SignForm, error: services.SigningError, problems: list[str],
                  organisation):
    """Show why the signature was refused; the version to show now, and the status."""
    if isinstance(error, services.VersionChanged):
        form.version_id.data = error.current.id
        form.authority.data = False  # confirm again, having read the new text
        problems.append(error.message)
        return error.current, error.status
    problems.extend(attach_error(form, error))
    return queries.open_version(organisation.site_id), error.status


@bp.route("/organisations/<slug>/sign", methods=["GET", "POST"])
@login_required
def sign(slug: str):
    # A pending or declined organisation is not public: 404.
    organisation = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation)
    if not permissions.can_sign(current_user, organisation):
        raise PermissionDenied(services.cannot_sign_message(current_user, organisation))
    g.no_store = True
    version = queries.open_version(organisation.site_id)
    form = SignForm(organisation=organisation, signer_name=current_user.full_name,
                    signer_job_title=current_user.job_title, version_id=getattr(version, "id", None))
    problems: list[str] = []
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            signature = services.sign(_actor(), organisation, _details(form))
        except services.SigningError as error:  # a 4xx answer: nothing of it is kept
            version, status = _sign_refused(form, error, problems, organisation)
        else:
            flash(_("%(name)s has signed version %(number)d of the charter. Thank you.",
                    name=organisation.name, number=signature.charter_version.number), "success")
            return redirect(url_for("signing.signed", signature_id=signature.id))
    return _sign_page(organisation, version, form, problems), status


def _sign_page(organisation, version, form: SignForm, problems: list[str]) -> str:
    return render_template(
        "signing/sign.html", organisation=organisation, version=version, form=form,
        problems=problems,
        existing=services.existing_signature(organisation, version) if version else None,
        previous=services.previous_signature(organisation, version),
    )


@bp.route("/signatures/<int:signature_id>")
def signed(signature_id: int):
    signature = _signature_or_404(signature_id)
    return render_template("signing/signature.html", signature=signature,
                           organisation=signature.organisation, site=signature.organisation.site,
                           version=signature.charter_version, withdrawal=signature.withdrawal)


@bp.route("/signatures/<int:signature_id>/certificate.pdf")
@documents.rate_limited
def certificate(signature_id: int):
    signature = _signature_or_404(signature_id)
    filename = services.certificate_filename(signature)
    # The certificate is made of these values and nothing else: they are its fingerprint, so
    # a withdrawal (or a renamed organisation) shows at once, and nothing else rebuilds it.
    print_ = documents.fingerprint(services.certificate_context(signature), filename)
    return documents.serve(
        f"certificate:{signature.id}", print_,
        lambda: documents.Built(services.certificate_pdf(signature), filename),
        content_type="application/pdf", min_age=0)


@bp.route("/verify")
def verify_form():
    form = VerifyForm(formdata=request.args if "code" in request.args else None)
    if "code" not in request.args:
        return render_template("signing/verify_form.html", form=form)
    if form.validate():
        code = services.clean_code(form.code.data)
        if code:
            return redirect(url_for("signing.verify", code=code))
        form.code.errors = [*form.code.errors, _(
            "That is not a verification code. Codes look like PRM-7KQ2-9XHD-M4TB: twelve letters "
            "and digits after PRM.")]
    return render_template("signing/verify_form.html", form=form), 400


@bp.route("/verify/<path:code>")  # a junk code with a slash still gets the friendly page
def verify(code: str):
    result = services.verify(code)
    status = 404 if result.state == SignatureState.UNKNOWN else 200
    signature = result.signature
    return render_template(
        "signing/verify.html",
        result=result,
        typed=code[:80],
        signature=signature,
        organisation=signature.organisation if signature else None,
        site=signature.organisation.site if signature else None,
        version=signature.charter_version if signature else None,
        withdrawal=signature.withdrawal if signature else None,
        form=VerifyForm(formdata=None),
        SignatureState=SignatureState,
    ), status


def _withdraw(form: WithdrawForm, signature, problems: list[str]):
    """Withdraw the signature: None when it is done, else the signature to show and the
    status (a 4xx answer: nothing of the request is kept)."""
    try:
        services.withdraw(_actor(), signature, form.reason.data)
    except services.AlreadyWithdrawn as error:
        problems.append(error.message)
        return _signature_or_404(signature.id), error.status
    except services.SigningError as error:
        problems.extend(attach_error(form, error))
        return signature, error.status
    return None


@bp.route("/signatures/<int:signature_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(signature_id: int):
    signature = _signature_or_404(signature_id)
    if not permissions.can_withdraw_signature(current_user, signature):
        raise PermissionDenied(_(
            "Only a lead of %(name)s or a coordinator of its site can withdraw its signature.",
            name=signature.organisation.name))
    form = WithdrawForm()
    problems: list[str] = []
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and signature.withdrawal is not None:
        problems.append(services.already_withdrawn_message(signature))
        status = 409
    elif form.validate_on_submit():
        refused = _withdraw(form, signature, problems)
        if refused is None:
            flash(_("The signature of %(name)s has been withdrawn. It stays on record with "
                    "your reason.", name=signature.organisation.name), "success")
            return redirect(url_for("signing.signed", signature_id=signature_id))
        signature, status = refused
    return _withdraw_page(signature, form, problems), status


def _withdraw_page(signature, form: WithdrawForm, problems: list[str]) -> str:
    return render_template(
        "signing/withdraw.html", signature=signature, organisation=signature.organisation,
        site=signature.organisation.site, version=signature.charter_version,
        withdrawal=signature.withdrawal, form=form, problems=problems,
    )

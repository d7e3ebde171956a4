"""Forms for signing, withdrawing and verifying (shape only; the rules are in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from charter import forms_common as fc
from charter.signing.services import CODE_INPUT_MAX, NAME_MAX, REASON_MAX, authority_statement

VERSION_MISSING = _l("The form did not say which version of the charter you read. Read it below "
                     "and sign again.")


class SignForm(FlaskForm):
    # The id of the version the person read: a different open version refuses the signing.
    version_id = fc.IdField(validators=[DataRequired(message=VERSION_MISSING)],
                            message=VERSION_MISSING)
    authority = BooleanField(_l("I have the authority to sign on behalf of this organisation"))
    signer_name = fc.text(_l("Your full name"), max_length=NAME_MAX,
                          required_message=_l("Enter your full name."),
                          description=_l("As it should appear on the certificate."),
                          render_kw={"autocomplete": "name"})
    signer_job_title = fc.text(_l("Your job title"), max_length=NAME_MAX,
                               required_message=_l("Enter your job title."),
                               render_kw={"autocomplete": "organization-title"})
    co_signatory_name = fc.text(_l("Co-signatory's full name"), max_length=NAME_MAX, required=False,
                                render_kw={"autocomplete": "off"})
    co_signatory_role = fc.text(
        _l("Co-signatory's role"), max_length=NAME_MAX, required=False,
        description=_l("For example: peer support worker, expert by experience, member of the "
                       "service user council."),
        render_kw={"autocomplete": "off"},
    )

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisation is not None:
            # The exact sentence the service stores as the statement of authority.
            self.authority.label.text = authority_statement(organisation)
            self.authority.validators = [DataRequired(message=_l(
                "Confirm that you have the authority to sign on behalf of %(name)s.",
                name=organisation.name))]
            self.authority.flags.required = True

    @property
    def version_id_value(self) -> int | None:
        return self.version_id.data

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        name = (self.co_signatory_name.data or "").strip()
        role = (self.co_signatory_role.data or "").strip()
        if name and not role and not self.co_signatory_role.errors:
            self.co_signatory_role.errors = [*self.co_signatory_role.errors, _l(
                "Enter the co-signatory's role too, or leave both co-signatory fields empty.")]
            ok = False
        if role and not name and not self.co_signatory_name.errors:
            self.co_signatory_name.errors = [*self.co_signatory_name.errors, _l(
                "Enter the co-signatory's name too, or leave both co-signatory fields empty.")]
            ok = False
        return ok


class WithdrawForm(FlaskForm):
    reason = fc.long_text(
        _l("Reason for withdrawing"), max_length=REASON_MAX,
        required_message=_l("Enter the reason for withdrawing."),
        description=_l("Shown publicly beside the signature, and sent to the organisation's leads "
                       "and the site's coordinators. At most %(max)d characters.", max=REASON_MAX),
        rows=5,
    )


class VerifyForm(FlaskForm):
    """Typed on a GET form (nothing changes), so without a CSRF token."""

    class Meta:
        csrf = False

    code = fc.text(
        _l("Verification code"), max_length=CODE_INPUT_MAX,
        required_message=_l("Enter the verification code from the certificate."),
        description=_l("It is printed on the certificate, for example PRM-7KQ2-9XHD-M4TB. Case, "
                       "spaces and dashes do not matter."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )

"""Forms for an organisation's members. They check shape only; the rules (who may do
what, the last lead, duplicates) live in members_services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField
from wtforms.validators import DataRequired, EqualTo, InputRequired

from charter import forms_common
from charter.auth.forms import password_field
from charter.models import MemberRole

MESSAGE_MAX = 1000
NAME_MAX = 120
JOB_TITLE_MAX = 120


class InviteMemberForm(FlaskForm):
    email = forms_common.email(
        _l("Email address"), description=_l("The invitation link is sent to this address."),
        autocomplete="off",
    )
    role = RadioField(
        _l("Role"),
        choices=forms_common.enum_choices(MemberRole),
        default=MemberRole.EDITOR.value,
        validators=[InputRequired(message=_l("Choose a role."))],
        description=_l("Editors draft commitments, updates and reports. Leads can also sign, "
                       "submit reports and manage members."),
    )
    message = forms_common.long_text(
        _l("Message (optional)"), max_length=MESSAGE_MAX, required=False, rows=3,
        description=_l("A few words to include in the email, up to %(max)d characters.",
                       max=MESSAGE_MAX),
    )


class ChangeRoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=forms_common.enum_choices(MemberRole),
        validators=[InputRequired(message=_l("Choose a role."))],
    )



class CreateAccountForm(FlaskForm):
    """For an invitee without an account; the email comes from the invitation."""

    full_name = forms_common.text(
        _l("Full name"), max_length=NAME_MAX, required_message=_l("Enter your full name."),
        render_kw={"autocomplete": "name"},
    )
    job_title = forms_common.text(
        _l("Job title"), max_length=JOB_TITLE_MAX, required_message=_l("Enter your job title."),
        render_kw={"autocomplete": "organization-title"},
    )
    password = password_field(_l("Password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(message=_l("Repeat the password.")),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.render_kw = {"autocomplete": "new-password"}
        self.confirm.render_kw = {"autocomplete": "new-password"}

"""Forms for joining, inviting organisations and deciding on applications (shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField
from wtforms.validators import DataRequired, EqualTo, InputRequired

from charter import forms_common as fc
from charter.auth.forms import password_field
from charter.models import Sector, Tier

TIER_DESCRIPTIONS = {
    Tier.SIGNATORY: _l("Signatory: records commitments and publishes a progress report every cycle."),
    Tier.SUPPORTER: _l("Supporter: backs the charter and shares what it learns, without the full "
                       "reporting duty."),
}


class SiteChoice(FlaskForm):
    """The site, first on the join page. Declared before the other fields: WTForms orders
    fields by when they were declared, and the error summary lists them in that order."""

    site = SelectField(_l("PROMISE site"), validators=[
        InputRequired(message=_l("Choose the site your organisation belongs to."))])


class OrganisationFields(FlaskForm):
    organisation_name = fc.text(_l("Organisation name"), max_length=200,
                                required_message=_l("Enter the organisation's name."),
                                render_kw={"autocomplete": "organization"})
    sector = SelectField(
        _l("Sector"),
        choices=fc.enum_choices(Sector, empty=_l("Choose a sector")),
        validators=[InputRequired(message=_l("Choose the organisation's sector."))],
    )
    tier = RadioField(
        _l("How will the organisation take part?"),
        choices=fc.choices((t.value, TIER_DESCRIPTIONS[t]) for t in Tier),
        default=Tier.SIGNATORY.value,
        validators=[InputRequired(message=_l("Choose signatory or supporter."))],
    )
    website = fc.website()
    description = fc.long_text(
        _l("Short description"), max_length=2000, required=False, rows=4,
        description=_l("What the organisation does, in a few sentences. Shown on its public page."),
    )


class AccountFields(FlaskForm):
    full_name = fc.text(_l("Your full name"), max_length=120,
                        required_message=_l("Enter your full name."),
                        render_kw={"autocomplete": "name"})
    job_title = fc.text(_l("Your job title"), max_length=120,
                        required_message=_l("Enter your job title."),
                        render_kw={"autocomplete": "organization-title"})
    email = fc.email(_l("Your email address"),
                     description=_l("You will sign in with it. We send notices about the charter here."))
    password = password_field(_l("Choose a password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(message=_l("Repeat the password.")),
                    EqualTo("password", message=_l("The two passwords do not match."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.password.render_kw = {"autocomplete": "new-password"}
        self.confirm.render_kw = {"autocomplete": "new-password"}


class JoinForm(SiteChoice, OrganisationFields, AccountFields):
    pass


class JoinSignedInForm(SiteChoice, OrganisationFields):
    """For someone already signed in: their account leads the new organisation."""


class InvitedJoinForm(OrganisationFields, AccountFields):
    """Joining through a coordinator's invitation: site and email come from the invitation."""


class InvitedJoinSignedInForm(OrganisationFields):
    pass


class InviteOrganisationForm(FlaskForm):
    email = fc.email(_l("Email address of the person to invite"),
                     description=_l("They will lead the organisation on the charter."))
    organisation_name = fc.text(_l("Organisation name (suggested)"), max_length=200, required=False,
                                description=_l("They can correct it when they accept."))
    message = fc.long_text(_l("Message to include (optional)"), max_length=1000, required=False,
                           rows=3)




class DeclineForm(fc.VersionForm):
    reason = fc.long_text(
        _l("Reason for declining"), max_length=2000, rows=3,
        required_message=_l("Give a reason: the applicant will see it."),
        description=_l("Shown to the applicant. Be specific about what would change the decision."),
    )


class SignatoryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = fc.text(_l("Search by name"), max_length=100, required=False)
    site = SelectField(_l("Site"), default="")
    sector = SelectField(_l("Sector"), choices=fc.enum_choices(Sector, empty=_l("All sectors")),
                         default="")
    tier = SelectField(_l("Signatory or supporter"),
                       choices=fc.enum_choices(Tier, empty=_l("Both")), default="")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site.choices = fc.choices(((s.slug, s.name) for s in sites), empty=_l("All sites"))


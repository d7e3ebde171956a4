"""Partnership forms (shape only: which organisation may be invited is the service's rule)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

from charter import forms_common as fc
from charter.models import Sector


def _site_choices(sites, everyone_label):
    return fc.choices(((s.slug, s.name) for s in sites), empty=everyone_label)


class PartnerSearchForm(FlaskForm):
    """The GET search that narrows the list of organisations to invite."""

    class Meta:
        csrf = False

    q = fc.text(_l("Search by name"), max_length=100, required=False)
    site = SelectField(_l("Site"), default="")
    sector = SelectField(_l("Sector"), choices=fc.enum_choices(Sector, empty=_l("All sectors")),
                         default="")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site.choices = _site_choices(sites, _l("All sites"))


class InvitePartnerForm(FlaskForm):
    # Any organisation id is accepted here; the service says whether it may be invited,
    # so that a list filtered differently since the page loaded cannot lose the choice.
    organisation = SelectField(
        _l("Organisation to invite"), validate_choice=False,
        validators=[InputRequired(message=_l("Choose the organisation to invite."))],
    )
    role_note = fc.text(
        _l("Their role (optional)"), max_length=300, required=False,
        description=_l("What the partner brings or does, in a line. Shown with the commitment."),
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = fc.choices(
            ((str(o.id), f"{o.name} ({o.sector.label}, {o.site.name})") for o in organisations),
            empty=_l("Choose an organisation"),
        )



class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class JointCommitmentFilterForm(FlaskForm):
    """Filters of the public list of joint commitments (GET)."""

    class Meta:
        csrf = False

    site = SelectField(_l("Site involved"), default="")
    sector = CheckboxListField(_l("Sectors involved"), choices=fc.enum_choices(Sector), default=[],
                               description=_l("Show commitments that bring together every "
                                              "sector ticked."))
    domain = SelectField(_l("Change domain"), default="")
    min_sectors = SelectField(
        _l("Number of sectors"), default="",
        choices=fc.choices([("2", _l("2 or more")), ("3", _l("3 or more")), ("4", _l("4 or more"))],
                           empty=_l("Any")),
    )

    def __init__(self, *args, sites=(), domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.site.choices = _site_choices(sites, _l("All sites"))
        self.domain.choices = fc.choices(((d.slug, d.name) for d in domains),
                                         empty=_l("All change domains"))

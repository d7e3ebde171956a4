"""Field builders with consistent, plain-language messages. Forms check shape only;
rules (uniqueness, state changes) live in services."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from charter import text as charter_text


def choices(pairs: Iterable[tuple[str, object]], *, empty=None) -> list[SelectChoice]:
    """(value, label) pairs as the options of a select or radio field, in order. With `empty`,
    an option of that label and the value "" comes first."""
    options = [SelectChoice("", empty)] if empty is not None else []
    options.extend(SelectChoice(value, label) for value, label in pairs)
    return options


def enum_choices(members: Iterable, *, empty=None) -> list[SelectChoice]:
    """The members of a LabelledEnum (the class, or some of its members) as options: their
    values and labels, in order; the labels stay lazy, so that choices declared on a form
    class are translated per request. `empty` as for choices()."""
    return choices(((m.value, m.lazy_label) for m in members), empty=empty)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class NoControlCharacters:
    """Refuse control characters (other than newlines and tabs in long text)."""

    def __init__(self, multiline: bool = False):
        self.allowed = {"\n", "\r", "\t"} if multiline else set()

    def __call__(self, form, field):
        value = field.data or ""
        if any((ord(c) < 32 or ord(c) == 127) and c not in self.allowed for c in value):
            raise ValidationError(_l("Remove the invisible control characters from this text."))


class Printable:
    """Refuse text with too much formatting to print (see charter.text.measure): every field
    whose text reaches a PDF has this, and its service checks the same."""

    def __call__(self, form, field):
        if charter_text.too_much_formatting(field.data if isinstance(field.data, str) else None):
            raise ValidationError(charter_text.TOO_MUCH_FORMATTING)


def text(label, *, max_length: int, required: bool = True, required_message=None,
         description=None, render_kw=None, printed: bool = False):
    """A one-line text field. `printed`: the text goes into a PDF (adds Printable)."""
    validators = [
        DataRequired(message=required_message or _l("Enter %(label)s.", label=str(label).lower()))
        if required else Optional(),
        Length(max=max_length, message=_l("Use %(max)d characters or fewer.", max=max_length)),
        NoControlCharacters(),
    ]
    if printed:
        validators.append(Printable())
    return StringField(label, validators=validators, filters=[_strip], description=description,
                       render_kw=render_kw)


def long_text(label, *, max_length: int, required: bool = True, required_message=None,
              description=None, rows: int = 6, printed: bool = False):
    """A multi-line text field. `printed`: the text goes into a PDF (adds Printable)."""
    validators = [
        DataRequired(message=required_message or _l("Enter %(label)s.", label=str(label).lower()))
        if required else Optional(),
        Length(max=max_length, message=_l("Use %(max)d characters or fewer.", max=max_length)),
        NoControlCharacters(multiline=True),
    ]
    if printed:
        validators.append(Printable())
    return TextAreaField(label, validators=validators, filters=[_strip], description=description,
                         render_kw={"rows": rows})


def email(label=None, *, required: bool = True, description=None, autocomplete="email"):
    validators = [
        DataRequired(message=_l("Enter an email address.")) if required else Optional(),
        Length(max=254, message=_l("An email address has at most 254 characters.")),
        Email(message=_l("Enter an email address in the form name@example.org."),
              check_deliverability=False),
    ]
    return StringField(
        label or _l("Email address"),
        validators=validators,
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        description=description,
        render_kw={"type": "email", "autocomplete": autocomplete, "spellcheck": "false"},
    )


def website(label=None, *, required: bool = False):
    validators = [
        DataRequired(message=_l("Enter the website address.")) if required else Optional(),
        Length(max=300, message=_l("Use 300 characters or fewer.")),
        URL(require_tld=True, message=_l("Enter a full web address, such as https://example.org.")),
    ]
    return StringField(label or _l("Website"), validators=validators, filters=[_strip],
                       description=_l("Starting with https://"),
                       render_kw={"type": "url", "autocomplete": "url"})

"""Field builders with consistent, plain-language messages. Forms check shape only;
rules (uniqueness, state changes) live in services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import HiddenInput, NumberInput, TextInput

from charter import readers
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


# --- numbers, ids and dates: read by charter.readers -----------------------------------------
# Replacements for WTForms' IntegerField, DecimalField and DateField, which read "١٢" as 12,
# "1_000" as 1000 and accept the years 1 and 9999. These read the same way as URLs and
# spreadsheet cells do.

FORM_INFORMATION_MISSING = _l("This form is missing some of its information. Reload the page and "
                              "make your change again.")


class ReadField(Field):
    """A field read by one of charter.readers. `.data` holds the value (None when blank);
    the text as sent is kept to show it again; text the reader refuses gets the reader's
    message beside the field (and no other validator runs)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, *, reader: Callable[[Any], Any], **kwargs):
        super().__init__(label, validators, **kwargs)
        self.reader = reader
        self.raw_text: str | None = None
        self.read_error = None

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        # A value set by code (e.g. the current row version after a conflict) is what shows.
        self._data = value
        self.raw_text = None

    def process_formdata(self, valuelist):
        if not valuelist:  # not sent: the default (or the object's value) stays, as in WTForms
            return
        raw = valuelist[0] if isinstance(valuelist[0], str) else ""
        self.read_error = None
        try:
            self.data = self.reader(raw)
        except readers.ReadError as exc:
            self.data = None
            self.read_error = exc.message
        self.raw_text = raw

    def pre_validate(self, form):
        if self.read_error is not None:
            raise StopValidation(str(self.read_error))

    def _value(self):
        if self.raw_text is not None:
            return self.raw_text
        return "" if self.data is None else self.format_value(self.data)

    def format_value(self, value) -> str:
        return value.isoformat() if hasattr(value, "isoformat") else str(value)


class WholeNumberField(ReadField):
    """A whole number from `minimum` to `maximum` (ASCII digits); `message` says what to
    enter when the text is not one."""

    widget = NumberInput()

    def __init__(self, label=None, validators=None, *, minimum: int, maximum: int, message=None,
                 **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "min": minimum, "max": maximum})
        super().__init__(label, validators, reader=lambda raw: readers.read_int(
            raw, minimum, maximum, message), **kwargs)
        self.minimum, self.maximum = minimum, maximum


class IdField(ReadField):
    """A hidden id or row version (1 … 2³¹−1) that the page put in the form. Templates treat
    it as the HiddenField it is (its errors go to the error summary)."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, *, message=None, **kwargs):
        super().__init__(label, validators, reader=lambda raw: readers.read_id(
            raw, message or FORM_INFORMATION_MISSING), **kwargs)
        self.type = "HiddenField"

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.raw_text is not None:
            self.raw_text = self.raw_text[:20]  # shown again in the page: junk stays short


class DecimalField(ReadField):
    """A number as people type it ('12', '3,5', '1 234.5'): finite, below `max_abs` in size,
    with at most `places` decimals. `.data` is a Decimal."""

    def __init__(self, label=None, validators=None, *, max_abs: Decimal = readers.DEFAULT_MAX_ABS,
                 places: int = readers.DEFAULT_PLACES, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, reader=lambda raw: readers.read_decimal(
            raw, max_abs=max_abs, places=places), **kwargs)

    def format_value(self, value) -> str:
        if isinstance(value, str):  # a page may show a number as it prefers to write it
            return value
        return format(Decimal(value).normalize(), "f")


class DateField(ReadField):
    """A date picker (ISO date, years 1900 to 2200) with plain messages."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"type": "date", "min": readers.EARLIEST_DATE.isoformat(),
                     "max": readers.LATEST_DATE.isoformat(), **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators if validators is not None else [Optional()],
                         reader=readers.read_date, render_kw=render_kw, **kwargs)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that POST."""


class VersionForm(FlaskForm):
    """A button that acts on a versioned record: the CSRF token and the row version that was
    shown, so acting on a record someone has changed since is an edit conflict."""

    version = IdField()

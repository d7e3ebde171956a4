"""Odd input gets a clear answer, never a server error: generated from the role × route table.

For every entry of tests/access.py (ACCESS), as one role the table lets through, in the
table's world with a little more in it (cycles, a measured public commitment, a draft report):
- GET routes: the page's own query parameters (those its view looks up in request.args, the
  fields of its GET forms, the parameters of its links back to itself), each alone with the
  odd values most likely to slip through a lenient reader, then all rotated through every odd
  value (a Latin square), together with common names (page, site, cycle, quarter, …);
- POST routes: the form that posts to the route, found on its own page, on a page above it in
  the URL, on a page those link to or on another page of the same record, filled with valid-
  looking values; then each field that is read as a number, date, choice or hidden value is
  set to each odd value in turn, and the free-text fields to each odd value together (with a
  valid CSRF token). A form no page shows gets the usual names of hidden ids and versions;
- every integer in a path is replaced by odd ids, every text segment (a slug, a token) by NUL,
  an Arabic-Indic digit and 5,000 characters.
No answer may be a 5xx, nor an exception. Each parameter and field gets each odd value at least
once. Laying out PDFs is skipped (every step before it runs). Set ODD_INPUT_EXHAUSTIVE=1 to
send every odd value to every parameter and field on its own (several minutes).
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter

from charter import pdf
from charter.extensions import db, limiter
from tests.access import ACCESS
from tests.conftest import ROLES
from tests.factories import PASSWORD

ODD_VALUES = (
    "²",  # superscript two: str.isdigit() says yes, int() says no
    "٣",  # Arabic-Indic three: int() reads it as 3
    "１２",  # full-width twelve
    "99999999999999999999999",
    "-1",
    "0",
    "0000-Q1",
    "9999-Q4",
    "0001-01-01",
    "9999-12-31",
    "\x00",
    "x" * 5000,
)
ODD_IDS = ("²", "٣", "１２", "99999999999999999999999", str(2**31), "-1", "0")
ODD_TEXT_SEGMENTS = ("\x00", "٣", "x" * 5000)  # for slugs, tokens and other text in paths
# Each of the page's own parameters also gets these alone (the others left as they are).
ALONE = ("²", "٣", "99999999999999999999999")
COMMON_PARAMS = (
    "page", "per_page", "site", "domain", "cycle", "quarter", "organisation", "q", "sort",
    "status", "year", "from", "to", "sector", "tier", "step", "commitment", "indicator", "id",
    "version", "date", "format",
)
# For a form that no page shows: the names forms give the ids and row versions they carry.
GUESSED_HIDDEN = ("version", "version_id", "expected_version", "id", "loaded", "state", "next")
EXHAUSTIVE = os.environ.get("ODD_INPUT_EXHAUSTIVE") == "1"
SIGNED_IN = [r for r in ROLES if r != "public"]
# Fields whose value is read as something other than free text.
TYPED_NAME = re.compile(r"(^|_)(id|version|loaded|state|date|start|end|quarter|page|position|days|"
                        r"threshold|value|cycle|year|number|min|max|site|domain|organisation|"
                        r"indicator|commitment|sector|tier|role|action|direction|ambition|"
                        r"completion|rag|before|after)(_|$)")
NOT_HTML = (".pdf", ".csv", ".xlsx", ".zip", ".atom", ".md", ".json", ".css", ".js")


def _statuses(value) -> set[int]:
    return value if isinstance(value, set) else {value}


def allowed_role(endpoint: str, method: str) -> str:
    """One role the table lets through: signed-in roles first (they see the most), then the
    public; for a GET page, one that gets it (200) when any role does; for a form, one that
    also gets the form's page when there is one (the sign-in form: the public)."""
    route = ACCESS[(endpoint, method)]
    page = ACCESS.get((endpoint, "GET")) if method == "POST" else route
    wants_page = page is not None and any(200 in _statuses(s) for s in page.expect.values())
    roles = [*SIGNED_IN, "public"]
    if method == "POST" and wants_page:  # those who see the form first
        roles.sort(key=lambda r: 200 not in _statuses(page.expect[r]))
    for role in roles:
        got = _statuses(route.expect[role])
        if got & {403, 404} or (method == "GET" and wants_page and 200 not in got):
            continue
        if role == "public" and 302 in got and any(
                not _statuses(route.expect[r]) & {302, 403, 404} for r in SIGNED_IN):
            continue  # the public's 302 is the sign-in page
        return role
    raise AssertionError(f"no role reaches {method} {endpoint}")


# --- reading pages ----------------------------------------------------------------------

class PageParser(HTMLParser):
    """The forms of a page (action, method, fields with a valid-looking value each) and the
    query parameters of its links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(),
                          "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._option(a)
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            self._form["fields"].append({"name": name, "kind": kind, "value": a.get("value", ""),
                                         "checked": "checked" in a, "attrs": a})
        elif tag == "select":
            self._select = {"name": name, "kind": "select", "value": None, "attrs": a}
            self._form["fields"].append(self._select)
        elif tag == "textarea":
            self._textarea = {"name": name, "kind": "textarea", "value": "", "attrs": a}
            self._form["fields"].append(self._textarea)

    def _option(self, a):
        value = a.get("value", "")
        if self._select["value"] is None and value or "selected" in a:
            self._select["value"] = value

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(response) -> PageParser:
    parser = PageParser()
    if response.status_code == 200 and response.mimetype == "text/html":
        parser.feed(response.get_data(as_text=True))
    response.close()
    return parser


def _same_path(base: str, target: str, path: str) -> bool:
    return urlsplit(urljoin(base, target)).path == path


def valid_values(form: dict) -> dict[str, list[str]]:
    """What a person filling the form in would send: the page's values, or plausible ones."""
    data: dict[str, list[str]] = {}
    radios: set[str] = set()
    submitted = False
    for field in form["fields"]:
        name, kind, value = field["name"], field["kind"], field["value"]
        if kind in ("submit", "button", "image"):
            if not submitted:
                data[name], submitted = [value or "y"], True
            continue
        if kind == "file":
            continue
        if kind == "radio":
            if name not in radios or field["checked"]:
                data[name] = [value]
            radios.add(name)
            continue
        if kind == "checkbox":
            data.setdefault(name, []).append(value or "y")
            continue
        if kind == "select":
            data[name] = [value or ""]
            continue
        if not value:
            inputmode = field["attrs"].get("inputmode", "")
            value = {"date": "2026-01-15", "email": "odd.input@example.org", "password": PASSWORD,
                     "url": "https://example.org", "number": "3"}.get(kind) or (
                "3" if inputmode in ("numeric", "decimal") else
                "" if kind == "hidden" else "Odd input check")
        data[name] = [value]
    return data


def field_names(form: dict) -> list[str]:
    names = []
    for field in form["fields"]:
        if field["kind"] in ("submit", "button", "image", "file") or field["name"] == "csrf_token":
            continue
        if field["name"] not in names:
            names.append(field["name"])
    return names


def is_typed(form: dict, name: str) -> bool:
    """Read as a number, a date, a choice or a hidden value rather than as free text."""
    kinds = {f["kind"] for f in form["fields"] if f["name"] == name}
    modes = {f["attrs"].get("inputmode", "") for f in form["fields"] if f["name"] == name}
    return bool(kinds - {"text", "textarea", "email", "password", "url", "search"}
                or modes & {"numeric", "decimal"} or TYPED_NAME.search(name))


class RecordingArgs(ImmutableMultiDict):
    """request.args that remembers which names the view looked up."""

    looked_up: set[str] = set()

    def __getitem__(self, key):
        RecordingArgs.looked_up.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        RecordingArgs.looked_up.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.looked_up.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        RecordingArgs.looked_up.add(key)
        return super().__contains__(key)


# --- sending ------------------------------------------------------------------------------

def rotations(names: list[str], values=ODD_VALUES) -> list[dict[str, str]]:
    """len(values) assignments in which every name gets every value once, and names get
    different values in the same assignment (a Latin square)."""
    if not names:
        return []
    return [{name: values[(i + k) % len(values)] for i, name in enumerate(names)}
            for k in range(len(values))]


class Probe:
    def __init__(self, client, method: str):
        self.client = client
        self.method = method
        self.failures: list[str] = []
        self.sent = 0

    def send(self, url: str, *, query=None, data=None, what: str = "") -> int | None:
        self.sent += 1
        try:
            if self.method == "GET":
                response = self.client.get(url, query_string=query)
            else:
                response = self.client.post(url, data=data)
        except Exception as exc:  # noqa: BLE001 - the app let an exception out: that is a 500
            self.failures.append(f"{self.method} {url} {what}: {type(exc).__name__}: "
                                 f"{str(exc)[:160]}")
            return None
        response.close()  # a streamed answer (an export) ends its request context here
        if response.status_code == 429:
            limiter.reset()
        if response.status_code >= 500:
            self.failures.append(f"{self.method} {url} {what}: {response.status_code}")
        return response.status_code


def _shown(value: str) -> str:
    return repr(value if len(value) < 30 else value[:10] + f"…({len(value)} chars)")


def odd_path_urls(app, url: str, method: str) -> list[tuple[str, str]]:
    """The URL with each integer path segment replaced by each odd id, and each text
    segment (a slug, a token) by NUL, an Arabic-Indic digit and 5,000 characters."""
    parts = urlsplit(url)
    adapter = app.url_map.bind("localhost")
    rule, args = adapter.match(parts.path, method=method, return_rule=True)
    odd_for = {}
    for name, conv in rule._converters.items():
        if isinstance(conv, IntegerConverter):
            odd_for[name] = ODD_IDS
        elif isinstance(conv, UnicodeConverter | PathConverter):
            odd_for[name] = ODD_TEXT_SEGMENTS
    out = []
    for name, odd_values in odd_for.items():
        for odd in odd_values:
            path = re.sub(r"<(?:[^>:]+:)?([^>]+)>",
                          lambda m, name=name, odd=odd: quote(odd if m.group(1) == name
                                                              else str(args[m.group(1)]), safe="/"),
                          rule.rule)
            out.append((path + (f"?{parts.query}" if parts.query else ""), f"{name}={_shown(odd)}"))
    return out


def _related_pages(app, path: str) -> list[str]:
    """Pages of the app's GET rules that need no more than the POST URL's own arguments (the
    same ids or slugs) and share a word of its path: /commitment-indicators/7/remove →
    /commitment-indicators/7/measurements."""
    adapter = app.url_map.bind("localhost")
    rule, args = adapter.match(path, method="POST", return_rule=True)
    words = {w for w in rule.rule.strip("/").split("/") if w and "<" not in w}
    pages = []
    for other in app.url_map.iter_rules():
        if "GET" not in other.methods or other.arguments - set(args) or other.endpoint == "static":
            continue
        if not words & {w for w in other.rule.strip("/").split("/") if "<" not in w}:
            continue
        try:
            pages.append(adapter.build(other.endpoint, {k: args[k] for k in other.arguments}))
        except Exception:  # noqa: BLE001,S112 - a rule this URL's arguments cannot build
            continue
    return pages


def find_form(client, app, url: str, endpoint: str) -> tuple[dict | None, str | None]:
    """The form that posts to `url`: on its own page when the route answers GET, else on a
    page above it in the URL (the record's page or its edit page), else on a page those link
    to, or a page of the same record (a GET route built from the same arguments)."""
    path = urlsplit(url).path
    candidates = [url] if (endpoint, "GET") in ACCESS else []
    segments = path.strip("/").split("/")
    for i in range(len(segments) - 1, 0, -1):
        parent = "/" + "/".join(segments[:i])
        candidates += [parent + "/edit", parent]
    seen, second = set(), []
    for round_ in (candidates, second):
        if round_ is second:
            second += _related_pages(app, path)
        for candidate in round_:
            if candidate in seen or candidate.endswith(NOT_HTML):
                continue
            seen.add(candidate)
            page = parse_page(client.get(candidate))
            for form in page.forms:
                if form["method"] == "post" and _same_path(candidate, form["action"] or candidate, path):
                    return form, candidate
            if round_ is candidates:  # then the pages they link to under the same first word
                second += [urlsplit(urljoin(candidate, href)).path for href in page.links
                           if urlsplit(urljoin(candidate, href)).path.startswith("/" + segments[0])]
    return None, None


def enrich(w) -> None:
    """More than the table's world, so that pages have lists, charts and reporting to show:
    past and current cycles on both sites, a public commitment of the other organisation
    with a catalogue indicator, measurements and a milestone, its signature and a draft
    report in the current cycle."""
    from datetime import date, timedelta
    from decimal import Decimal

    from charter.models import CommitmentIndicator, CommitmentStatus, Direction, Indicator, Measurement
    from charter.models.base import utcnow
    from tests import factories as f
    from tests.access.rules import signature_of

    today = date.today()
    for site in (w.site, w.other_site):
        f.cycle(site, "Odd input past cycle", period_start=today - timedelta(days=200),
                period_end=today - timedelta(days=110), due_date=today - timedelta(days=90))
        current = f.cycle(site, "Odd input current cycle", period_start=today - timedelta(days=60),
                          period_end=today + timedelta(days=30), due_date=today + timedelta(days=60))
        if site is w.site:
            f.report(w.other_org, current)
    try:
        with db.session.begin_nested():
            signature_of(w, w.other_org)  # on the open version (made if the URL made none)
    except IntegrityError:
        pass  # the route's own URL made charter versions that leave no room for one
    domain = f.domain("Odd input domain", slug="odd-input-domain")
    commitment = f.commitment(w.other_org, domain, status=CommitmentStatus.PUBLISHED,
                              published_at=utcnow())
    f.milestone(commitment)
    indicator = Indicator(name="Odd input episodes per 1,000 bed days", unit="per 1,000 bed days",
                          direction=Direction.LOWER_IS_BETTER)
    ci = CommitmentIndicator(commitment=commitment, indicator=indicator, baseline_value=Decimal(9),
                             baseline_date=today - timedelta(days=400), target_value=Decimal(4),
                             target_date=today + timedelta(days=400))
    db.session.add_all([indicator, ci])
    for back in (1, 2, 3):
        end = today - timedelta(days=92 * back)
        db.session.add(Measurement(commitment_indicator=ci, period_start=end - timedelta(days=90),
                                   period_end=end, value=Decimal(8 - back)))
    db.session.commit()


@pytest.mark.parametrize(("endpoint", "method"), sorted(ACCESS))
def test_odd_input_gets_no_server_error(app, client, world, monkeypatch, endpoint, method):
    # Laying out a PDF takes WeasyPrint a second and reads no input: every step before it
    # (reading the request, the queries, the charts, the HTML) still runs.
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html, **_options: b"%PDF-1.7\n% laid out elsewhere\n")
    route = ACCESS[(endpoint, method)]
    role = allowed_role(endpoint, method)
    if world.user(role) is not None:
        client.login(world.user(role))
    url = route.url(world)
    enrich(world)
    probe = Probe(client, method)
    if method == "GET":
        _probe_get(app, client, probe, url, monkeypatch)
    else:
        _probe_post(app, client, probe, route, url, endpoint, world)
    assert not probe.failures, (f"{len(probe.failures)} of {probe.sent} requests as {role} "
                                "got a server error:\n" + "\n".join(probe.failures))


def _probe_get(app, client, probe: Probe, url: str, monkeypatch):
    monkeypatch.setattr(app.request_class, "parameter_storage_class", RecordingArgs)
    RecordingArgs.looked_up = set()
    response = client.get(url)
    assert response.status_code < 500, f"GET {url} answered {response.status_code} as it is"
    path = urlsplit(url).path
    page = parse_page(response)
    own = set(RecordingArgs.looked_up)
    for form in page.forms:
        if form["method"] == "get" and _same_path(url, form["action"] or url, path):
            own.update(field_names(form))
    for href in page.links:
        if _same_path(url, href, path):
            own.update(name for name, _v in parse_qsl(urlsplit(href).query))
    base = dict(parse_qsl(urlsplit(url).query))
    own -= {"csrf_token"}
    own_names = sorted(own)
    common = [n for n in COMMON_PARAMS if n not in own]
    # The page's own parameters: each alone with the values most likely to get past a
    # lenient reader, then all of them rotated through every odd value (a Latin square: in
    # each request they differ), with the common ones, which the view does not read, at the
    # same time (all set to that request's value).
    alone = ODD_VALUES if EXHAUSTIVE else ALONE
    plans = [{n: v} for n in own_names for v in alone]
    rotated = rotations(own_names) or [{} for _v in ODD_VALUES]
    plans += [{**dict.fromkeys(common, v), **r} for v, r in zip(ODD_VALUES, rotated, strict=True)]
    for plan in plans:
        what = " ".join(f"{k}={_shown(v)}" for k, v in plan.items() if k in own or len(plan) < 3)
        probe.send(path, query={**base, **plan}, what=what or "common parameters")
    for odd_url, what in odd_path_urls(app, url, "GET"):
        probe.send(odd_url, what=what)


def _probe_post(app, client, probe: Probe, route, url: str, endpoint: str, world):  # noqa: C901 - one probe, its plans read top to bottom
    form, page_url = find_form(client, app, url, endpoint)
    extra = route.data(world) if route.data else {}
    if form is None:
        # No page found shows this form: post the table's data and the names that forms
        # use for the ids and row versions they carry.
        form = {"fields": [{"name": n, "kind": "hidden", "value": str(v), "attrs": {}}
                           for n, v in extra.items()]}
        form["fields"] += [{"name": n, "kind": "hidden", "value": "", "attrs": {}}
                           for n in GUESSED_HIDDEN if n not in extra]
    defaults = {**valid_values(form), **{k: [str(v)] for k, v in extra.items()}}
    names = field_names(form)
    typed = [n for n in names if is_typed(form, n)]
    free = [n for n in names if n not in typed]

    def data(**odd) -> dict:
        out = {**defaults, **{k: [v] for k, v in odd.items()}}
        out["csrf_token"] = [client.csrf_token()]
        return out

    state = {"url": url}

    def send(odd: dict, what: str):
        nonlocal defaults
        status = probe.send(state["url"], data=data(**odd), what=what)
        if status in (302, 303) and (endpoint, "GET") in ACCESS:
            # It worked (the odd value was acceptable): aim the next ones at a fresh record
            # when the table's URL makes one.
            try:
                with db.session.begin_nested():
                    fresh_url = route.url(world)
            except Exception:  # noqa: BLE001 - the record is made once per test: keep it
                return
            fresh, _page = find_form(client, app, fresh_url, endpoint)
            if fresh is not None:
                state["url"] = fresh_url
                defaults = {**valid_values(fresh), **{k: [str(v)] for k, v in extra.items()}}

    if EXHAUSTIVE:
        plans = [({n: v}, f"{n}={_shown(v)}") for n in names for v in ODD_VALUES]
    elif not page_url:  # guessed names: rotated together (a name the form lacks masks nothing)
        plans = [(r, " ".join(f"{k}={_shown(v)}" for k, v in r.items())) for r in rotations(names)]
    else:
        plans = [({n: v}, f"{n}={_shown(v)}") for n in typed for v in ODD_VALUES]
        plans += [(dict.fromkeys(free, v), f"{'+'.join(free)}={_shown(v)}")
                  for v in ODD_VALUES if free]
    for odd, what in plans:
        send(odd, what)
    for odd_url, what in odd_path_urls(app, url, "POST"):
        probe.send(odd_url, data=data(), what=what)
    if not names and not odd_path_urls(app, url, "POST"):
        probe.send(url, data=data(), what="as is")

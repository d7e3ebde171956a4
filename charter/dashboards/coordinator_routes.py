"""Dashboards: the site coordinator's dashboard, the lists behind its numbers, and the
exports of a site's data (CSV and XLSX).

Site coordinators of the site and admins only (permissions.can_view_site_dashboard,
can_export_site, can_export_all_sites); others get 403, the signed-out the sign-in page.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.validators import ValidationError

from charter import charts, permissions, readers
from charter import forms_common as fc
from charter.dashboards import bp, coordinator, exports
from charter.lookups import site_or_404
from charter.models import RAG, Completion, ReportingStatus, Sector, Site, Tier

# --- filter forms (shape only: the values must be among the choices) ---------------------------


class Choice(SelectField):
    """A select whose unknown values get a message that says what to do."""

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_("“%(value)s” is not one of the choices: choose one from the list.",
                                    value=str(self.data)[:80]))


class OrganisationFilterForm(FlaskForm):
    class Meta:
        csrf = False

    step = Choice(_l("Pipeline step"), default="",
                  choices=fc.choices(((s, coordinator.STEP_LABELS[s]) for s in coordinator.STEPS),
                                     empty=_l("Any step")))
    status = Choice(_l("Reporting status this cycle"), default="",
                    choices=fc.enum_choices(coordinator.STATUS_ORDER, empty=_l("Any status")))
    sector = Choice(_l("Sector"), default="", choices=fc.enum_choices(Sector, empty=_l("All sectors")))
    tier = Choice(_l("Signatory or supporter"), default="", choices=fc.enum_choices(Tier, empty=_l("Both")))
    domain = Choice(_l("Change domain"), default="")
    coverage = Choice(_l("Public commitments in that domain"), default="",
                      choices=fc.choices([("none", _l("None")), ("some", _l("At least one"))],
                                         empty=_l("Any number")))

    def __init__(self, *args, domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.domain.choices = fc.choices(((d.slug, d.name) for d in domains), empty=_l("Any domain"))

    def validate_coverage(self, field):
        if field.data and not self.domain.data:
            raise ValidationError(_("Choose a change domain to filter by its commitments."))

    def filters(self, domains) -> coordinator.OrganisationFilters:
        by_slug = {d.slug: d for d in domains}
        domain = by_slug.get(self.domain.data) if self.domain.data else None
        return coordinator.OrganisationFilters(
            step=self.step.data or None,
            status=ReportingStatus(self.status.data) if self.status.data else None,
            sector=Sector(self.sector.data) if self.sector.data else None,
            tier=Tier(self.tier.data) if self.tier.data else None,
            domain=domain,
            coverage=(self.coverage.data or "some") if domain else None,
        )


class CommitmentFilterForm(FlaskForm):
    class Meta:
        csrf = False

    domain = Choice(_l("Change domain"), default="")
    completion = Choice(_l("Completion"), default="",
                        choices=fc.enum_choices(Completion, empty=_l("Any completion level")))
    rag = Choice(_l("RAG"), default="", choices=fc.enum_choices(RAG, empty=_l("Any RAG rating")))
    lead_sector = Choice(_l("Lead organisation's sector"), default="",
                         choices=fc.enum_choices(Sector, empty=_l("Any sector")))
    partner_sector = Choice(_l("Partner's sector"), default="",
                            choices=fc.enum_choices(Sector, empty=_l("Any sector")))
    min_sectors = Choice(_l("Joint, across at least"), default="",
                         choices=fc.choices(((str(n), _l("%(num)d sectors", num=n))
                                             for n in coordinator.MIN_SECTORS_CHOICES),
                                            empty=_l("Joint or not")))
    organisation = HiddenField(_l("Organisation"))

    def __init__(self, *args, domains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.domain.choices = fc.choices(((d.slug, d.name) for d in domains), empty=_l("Any domain"))

    def filters(self, domains, organisation) -> coordinator.CommitmentFilters:
        by_slug = {d.slug: d for d in domains}
        return coordinator.CommitmentFilters(
            domain=by_slug.get(self.domain.data) if self.domain.data else None,
            completion=Completion(self.completion.data) if self.completion.data else None,
            rag=RAG(self.rag.data) if self.rag.data else None,
            organisation=organisation,
            lead_sector=Sector(self.lead_sector.data) if self.lead_sector.data else None,
            partner_sector=Sector(self.partner_sector.data) if self.partner_sector.data else None,
            min_sectors=readers.int_or_none(self.min_sectors.data, 1, 99),
        )


# --- helpers ---------------------------------------------------------------------------------------


def _site_for(slug: str, allowed) -> Site:
    site = site_or_404(slug)
    if not allowed(current_user, site):
        abort(403)
    return site


def _progress_charts(board: coordinator.Dashboard) -> tuple[charts.Chart, charts.Chart] | None:
    if not board.commitments:
        return None
    names = [p.domain.name for p in board.progress]
    completion = charts.stacked_bar_chart(
        names, [(c.label, [p.completion[c] for p in board.progress]) for c in Completion],
        title=_("Public commitments by completion level, per change domain"),
        category_header=_("Change domain"))
    rag = charts.stacked_bar_chart(
        names, [(r.label, [p.rag[r] for p in board.progress]) for r in RAG],
        title=_("Public commitments by RAG rating, per change domain"),
        category_header=_("Change domain"))
    return completion, rag


# --- the dashboard and its lists ----------------------------------------------------------------


@bp.route("/manage/sites/<slug>/dashboard", endpoint="coordinator")
@login_required
def coordinator_dashboard(slug: str):
    site = _site_for(slug, permissions.can_view_site_dashboard)
    board = coordinator.dashboard(current_user, site)
    return render_template("dashboards/coordinator/dashboard.html", site=site, board=board,
                           charts=_progress_charts(board),
                           can_export=permissions.can_export_site(current_user, site))


@bp.route("/manage/sites/<slug>/dashboard/organisations")
@login_required
def coordinator_organisations(slug: str):
    site = _site_for(slug, permissions.can_view_site_dashboard)
    domains = coordinator.all_domains()
    form = OrganisationFilterForm(request.args, domains=domains)
    if not form.validate():
        return render_template("dashboards/coordinator/organisations.html", site=site, form=form,
                               result=None), 400
    result = coordinator.organisation_list(current_user, site, form.filters(domains), readers.page_arg())
    return render_template("dashboards/coordinator/organisations.html", site=site, form=form,
                           result=result)


@bp.route("/manage/sites/<slug>/dashboard/commitments")
@login_required
def coordinator_commitments(slug: str):
    site = _site_for(slug, permissions.can_view_site_dashboard)
    domains = coordinator.all_domains()
    form = CommitmentFilterForm(request.args, domains=domains)
    valid = form.validate()
    organisation = None
    if form.organisation.data:
        organisation = coordinator.site_organisation(site, form.organisation.data[:120])
        if organisation is None:
            form.organisation.errors = [*form.organisation.errors, _(
                "There is no organisation “%(slug)s” at %(site)s.",
                slug=form.organisation.data[:80], site=site.name)]
            valid = False
    if not valid:
        return render_template("dashboards/coordinator/commitments.html", site=site, form=form,
                               result=None, organisation=organisation), 400
    result = coordinator.commitment_list(current_user, site, form.filters(domains, organisation),
                                     readers.page_arg())
    return render_template("dashboards/coordinator/commitments.html", site=site, form=form,
                           result=result, organisation=organisation)


# --- exports -----------------------------------------------------------------------------------------


@bp.route("/manage/sites/<slug>/export")
@login_required
def export_page(slug: str):
    site = _site_for(slug, permissions.can_export_site)
    return render_template("dashboards/coordinator/export.html", site=site,
                           datasets=list(exports.DATASETS.values()), formats=exports.FORMATS,
                           can_export_all=permissions.can_export_all_sites(current_user))


def _download(site: Site | None, dataset: str, fmt: str) -> Response:
    name = exports.filename(site, dataset, fmt, date.today())
    if fmt == "csv":
        response = Response(stream_with_context(exports.export_csv(current_user, site, dataset)),
                            content_type=exports.CSV_MIMETYPE)
    else:
        response = Response(exports.export_xlsx(current_user, site, dataset),
                            content_type=exports.XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Private fields and drafts are in the file: never keep it in a shared cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _known(dataset: str, fmt: str) -> None:
    if dataset not in exports.DATASETS or fmt not in exports.FORMATS:
        abort(404)


@bp.route("/manage/sites/<slug>/export/<dataset>.<fmt>")
@login_required
def export(slug: str, dataset: str, fmt: str):
    site = _site_for(slug, permissions.can_export_site)
    _known(dataset, fmt)
    return _download(site, dataset, fmt)


@bp.route("/manage/export/<dataset>.<fmt>")
@login_required
def export_all(dataset: str, fmt: str):
    if not permissions.can_export_all_sites(current_user):
        abort(403)
    _known(dataset, fmt)
    return _download(None, dataset, fmt)

"""Commitments: creating, editing (with conflicts), publishing, retiring, milestones,
the public timeline and the organisation profile."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from charter.commitments import services
from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    Commitment,
    CommitmentStatus,
    Completion,
    Milestone,
    Partnership,
    PartnershipStatus,
)
from charter.models.base import utcnow
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.support import count_queries, text_of


@pytest.fixture
def domain(world):
    return f.domain("Least restrictive practice", slug="least-restrictive-practice")


def _values(domain, **kw):
    return services.CommitmentValues(title=kw.pop("title", "Halve prone restraint by 2027"),
                                     domain_id=domain.id, **kw)


def _form(domain_obj, **kw):
    data = {"title": "Halve prone restraint by 2027", "domain": str(domain_obj.id),
            "description": "We will **halve** prone restraint.", "start_date": "2026-01-01",
            "target_date": "2027-12-31", "ambition": "essential", "completion": "not_started",
            "rag": "on_track"}
    data.update(kw)
    return data


# --- services -------------------------------------------------------------------------

def test_a_member_creates_a_draft_and_publishes_it(world, domain):
    c = services.create(world.user("editor"), world.org, _values(domain))
    assert c.status == CommitmentStatus.DRAFT
    services.publish(world.user("editor"), c)
    assert c.status == CommitmentStatus.PUBLISHED and c.published_at is not None
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Commitment", AuditEvent.object_id == c.id)).all()
    assert actions == ["commitment.created", "commitment.published"]


@pytest.mark.parametrize("role", ["other_lead", "other_editor", "coordinator", "admin", "public"])
def test_only_members_of_the_organisation_create_commitments(world, domain, role):
    with pytest.raises(PermissionDenied):
        services.create(world.user(role), world.org, _values(domain))


def test_pending_organisations_cannot_record_commitments(world, domain):
    world.org.status = f.OrganisationStatus.PENDING
    with pytest.raises(PermissionDenied):
        services.create(world.user("lead"), world.org, _values(domain))


def test_target_date_before_start_date_is_refused(world, domain):
    with pytest.raises(services.CommitmentError) as exc:
        services.create(world.user("lead"), world.org,
                        _values(domain, start_date=date(2026, 6, 1), target_date=date(2026, 5, 1)))
    assert exc.value.field == "target_date"
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 0


def test_retired_domains_take_no_new_commitments_but_keep_old_ones(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    domain.is_active = False
    with pytest.raises(services.CommitmentError) as exc:
        services.create(world.user("lead"), world.org, _values(domain, title="Another"))
    assert exc.value.field == "domain" and "retired" in exc.value.message
    services.update(world.user("lead"), c, _values(domain, title="Renamed"), c.version)
    assert c.title == "Renamed"


def test_edits_are_audited_with_the_changed_fields_only(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    db.session.commit()
    services.update(world.user("editor"), c, _values(domain, rag=RAG.AT_RISK), c.version)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "commitment.updated"))
    assert event.changes == {"rag": ["on_track", "at_risk"]}


def test_a_stale_version_is_a_conflict_not_an_overwrite(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    db.session.commit()
    loaded = c.version
    services.update(world.user("lead"), c, _values(domain, title="First save"), loaded)
    db.session.commit()
    with pytest.raises(services.EditConflict):
        services.update(world.user("editor"), c, _values(domain, title="Second save"), loaded)
    assert c.title == "First save"


def test_retiring_needs_a_reason_and_a_public_commitment(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    with pytest.raises(services.CommitmentError):
        services.retire(world.user("lead"), c, "Not needed")  # still a draft
    services.publish(world.user("lead"), c)
    with pytest.raises(services.CommitmentError):
        services.retire(world.user("lead"), c, "  ")
    services.retire(world.user("lead"), c, "Merged into the county-wide plan")
    assert c.status == CommitmentStatus.RETIRED
    with pytest.raises(PermissionDenied):
        services.update(world.user("lead"), c, _values(domain, title="After retiring"), c.version)


def test_only_drafts_are_deleted(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    services.publish(world.user("lead"), c)
    with pytest.raises(services.CommitmentError):
        services.delete_draft(world.user("lead"), c)
    draft = services.create(world.user("lead"), world.org, _values(domain, title="Draft"))
    services.delete_draft(world.user("lead"), draft)
    assert db.session.get(Commitment, draft.id) is None


def test_milestones_belong_to_their_commitment(world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain))
    other = services.create(world.user("other_lead"), world.other_org, _values(domain))
    m = services.add_milestone(world.user("lead"), c, "Train all ward staff", date(2026, 9, 1))
    services.set_milestone_done(world.user("editor"), c, m.id, date(2026, 8, 20))
    assert m.done_date == date(2026, 8, 20)
    with pytest.raises(services.CommitmentError) as exc:
        services.set_milestone_done(world.user("other_lead"), other, m.id, date(2026, 8, 20))
    assert exc.value.status == 404


# --- pages ------------------------------------------------------------------------------

def test_new_commitment_page_saves_a_draft_visible_only_inside(client, world, domain):
    client.login(world.user("editor"))
    response = client.post(f"/organisations/{world.org.slug}/commitments/new", data=_form(domain))
    assert response.status_code == 302
    c = db.session.scalar(select(Commitment))
    page = client.get(f"/commitments/{c.id}")
    assert "This is a draft" in text_of(page)
    assert "<strong>halve</strong>" in page.get_data(as_text=True)
    client.login(world.user("coordinator"))
    assert client.get(f"/commitments/{c.id}").status_code == 200
    for role in ["other_lead", "other_coordinator"]:
        client.login(world.user(role))
        assert client.get(f"/commitments/{c.id}").status_code == 404
    client.logout()
    assert client.get(f"/commitments/{c.id}").status_code == 404


@pytest.mark.parametrize(("overrides", "message"), [
    ({"title": ""}, "Enter a title for the commitment."),
    ({"title": "x" * 201}, "Use 200 characters or fewer."),
    ({"domain": ""}, "Choose the change domain"),
    ({"domain": "99999"}, "Not a valid choice"),
    ({"target_date": "2025-01-01"}, "The target date must be on or after the start date."),
    ({"start_date": "2026-02-30"}, "Enter the date as year, month and day, e.g. 2026-03-31."),
    ({"rag": "purple"}, "Not a valid choice"),
])
def test_bad_input_is_explained_and_kept(client, world, domain, overrides, message):
    client.login(world.user("lead"))
    response = client.post(f"/organisations/{world.org.slug}/commitments/new",
                           data=_form(domain, description="Kept text ✓ <b>not bold</b>", **overrides))
    assert response.status_code == 400
    assert message in text_of(response)
    assert "Kept text ✓ &lt;b&gt;not bold&lt;/b&gt;" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 0


def test_second_editor_gets_a_conflict_page_that_keeps_their_text(client, app, world, domain):
    c = f.commitment(world.org, domain, title="Original")
    db.session.commit()
    loaded = c.version
    first = app.test_client()
    first.login(world.user("lead"))
    assert first.post(f"/commitments/{c.id}/edit",
                      data=_form(domain, title="Lead's title", version=loaded)).status_code == 302
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{c.id}/edit",
                           data=_form(domain, title="Editor's title", version=loaded))
    assert response.status_code == 409
    body = text_of(response)
    assert "Someone else changed this commitment" in body
    assert "Lead's title" in body
    assert 'value="Editor&#39;s title"' in response.get_data(as_text=True)
    db.session.refresh(c)
    assert c.title == "Lead's title"
    # Saving from the conflict page (which now carries the new version) is a deliberate overwrite.
    html = response.get_data(as_text=True)
    new_version = html.split('name="version" type="hidden" value="')[1].split('"')[0]
    again = client.post(f"/commitments/{c.id}/edit",
                        data=_form(domain, title="Editor's title", version=new_version))
    assert again.status_code == 302
    db.session.refresh(c)
    assert c.title == "Editor's title"


def test_public_timeline_starts_at_publication(client, world, domain):
    c = services.create(world.user("lead"), world.org, _values(domain, title="Secret draft title"))
    services.update(world.user("lead"), c, _values(domain, title="Public title"), c.version)
    db.session.commit()
    services.publish(world.user("lead"), c)
    db.session.commit()
    services.update(world.user("editor"), c, _values(domain, title="Public title",
                                                     completion=Completion.LIMITED), c.version)
    db.session.commit()
    page = text_of(client.get(f"/commitments/{c.id}"))
    assert "published" in page and "Limited" in page.split("Timeline")[1]
    assert "Secret draft title" not in page
    client.login(world.user("lead"))
    assert "Secret draft title" in text_of(client.get(f"/commitments/{c.id}"))


def test_profile_groups_commitments_by_domain_with_joint_ones(client, world, domain):
    second = f.domain("Co-production and lived experience", slug="co-production", position=99)
    own = f.commitment(world.org, domain, title="Own promise", status=CommitmentStatus.PUBLISHED,
                       published_at=utcnow())
    joint = f.commitment(world.other_org, second, title="Shared promise",
                         status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    db.session.add(Partnership(commitment=joint, organisation=world.org,
                               status=PartnershipStatus.ACCEPTED))
    f.commitment(world.org, domain, title="Hidden draft")
    db.session.commit()
    page = text_of(client.get(f"/organisations/{world.org.slug}"))
    assert page.index("Least restrictive practice") < page.index("Own promise")
    assert page.index("Co-production and lived experience") < page.index("Shared promise")
    assert "Joint commitment led by Mind in the Fens" in page
    assert "Hidden draft" not in page
    other = text_of(client.get(f"/organisations/{world.other_org.slug}"))
    assert "Shared promise" in other and "Joint commitment with Fenland Trust" in other
    assert own.id


def test_profile_query_count_does_not_grow_with_commitments(client, world, domain):
    def build(n, start=0):
        for i in range(start, start + n):
            c = f.commitment(world.org, domain, title=f"C{i}", status=CommitmentStatus.PUBLISHED,
                             published_at=utcnow())
            partner = f.organisation(world.other_site, f"Partner {i}")
            db.session.add(Partnership(commitment=c, organisation=partner,
                                       status=PartnershipStatus.ACCEPTED))
        db.session.commit()

    build(1)
    with count_queries() as small:
        client.get(f"/organisations/{world.org.slug}")
    build(30, start=1)
    with count_queries() as large:
        response = client.get(f"/organisations/{world.org.slug}")
    assert "C29" in text_of(response)
    assert small.count == large.count, large


def test_milestone_pages_add_mark_done_and_remove(client, world, domain):
    c = services.create(world.user("editor"), world.org, _values(domain))
    other = services.create(world.user("other_lead"), world.other_org, _values(domain))
    foreign = services.add_milestone(world.user("other_lead"), other, "Theirs", None)
    client.login(world.user("editor"))
    added = client.post(f"/commitments/{c.id}/milestones", follow_redirects=True,
                        data={"milestone_title": "Train every ward team",
                              "due_date": "2026-09-01"})
    assert "Milestone added." in text_of(added)
    milestone = db.session.scalar(select(Milestone).where(Milestone.commitment_id == c.id))
    assert (milestone.title, milestone.due_date) == ("Train every ward team", date(2026, 9, 1))
    done = client.post(f"/commitments/{c.id}/milestones/{milestone.id}/done",
                       data={"done_date": "2026-08-20"})
    assert done.status_code == 302
    db.session.refresh(milestone)
    assert milestone.done_date == date(2026, 8, 20)
    # Another commitment's milestone is not found through this one, and stays as it was.
    assert client.post(f"/commitments/{c.id}/milestones/{foreign.id}/done",
                       data={"done_date": "2026-08-20"}).status_code == 404
    assert client.post(f"/commitments/{c.id}/milestones/{foreign.id}/delete").status_code == 404
    assert db.session.get(Milestone, foreign.id).done_date is None
    removed = client.post(f"/commitments/{c.id}/milestones/{milestone.id}/delete",
                          follow_redirects=True)
    assert "Milestone removed." in text_of(removed)
    assert db.session.scalar(select(Milestone).where(Milestone.commitment_id == c.id)) is None

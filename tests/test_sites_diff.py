"""The difference between two charter versions: the algorithm, and the page (escaping,
word-level changes, bad and unknown version numbers, private drafts)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charter.models import CharterStatus
from charter.sites.diff import diff_texts, word_diff
from tests import factories as f
from tests.support import text_of

OLD = """# The charter

We promise to reduce restrictive practice.

## Our promises

- Count it.
- Publish it.
- Reduce it."""

NEW = """# The charter

We promise to end restrictive practice.

## Our promises

- Count it.
- Reduce it.
- Learn from people who use services."""


# --- the algorithm --------------------------------------------------------------------

def test_word_level_changes_inside_a_changed_line():
    segments = word_diff("We promise to reduce restrictive practice.",
                         "We promise to end restrictive practice.")
    assert [(s.kind, s.text) for s in segments] == [
        ("same", "We promise to "), ("removed", "reduce"), ("added", "end"),
        ("same", " restrictive practice."),
    ]


def test_lines_added_removed_and_changed_are_counted():
    result = diff_texts(OLD, NEW, context=None)
    kinds = [(r.kind, getattr(r, "text", "")) for r in result.rows if r.kind != "same"]
    assert ("removed", "- Publish it.") in kinds
    assert ("added", "- Learn from people who use services.") in kinds
    assert any(k == "changed" for k, _ in kinds)
    assert (result.added, result.removed, result.changed) == (1, 1, 1)
    assert not result.identical


def test_identical_texts_and_line_endings():
    result = diff_texts("a\r\nb", "a\nb")
    assert result.identical
    assert [r.kind for r in result.rows] == ["same", "same"]


def test_long_unchanged_stretches_are_folded():
    old = "\n".join(f"Line {i}" for i in range(40))
    new = old.replace("Line 20", "Line twenty")
    result = diff_texts(old, new, context=3)
    folds = [r for r in result.rows if r.kind == "fold"]
    assert [fold.count for fold in folds] == [17, 16]
    shown = [r for r in result.rows if r.kind != "fold"]
    assert len(shown) == 7


def test_unrelated_lines_are_a_removal_and_an_addition_not_a_change():
    result = diff_texts("Alpha beta gamma", "Completely different words here")
    assert [r.kind for r in result.rows] == ["removed", "added"]


def test_words_of_any_script_are_compared_as_words():
    segments = word_diff("Slibujeme omezit donucení.", "Slibujeme ukončit donucení.")
    assert ("removed", "omezit") in [(s.kind, s.text) for s in segments]
    chinese = word_diff("我们承诺减少约束", "我们承诺结束约束")
    assert ("removed", "减少") in [(s.kind, s.text) for s in chinese]
    assert ("added", "结束") in [(s.kind, s.text) for s in chinese]


# --- the page -------------------------------------------------------------------------

def _two(world, old=OLD, new=NEW):
    f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, body=old,
                      superseded_at=datetime.now(UTC), title="Charter one")
    f.charter_version(world.site, 2, CharterStatus.OPEN, body=new, title="Charter two",
                      change_summary="Stronger wording.")


def test_diff_page_marks_words_with_ins_and_del_and_hidden_words(client, world):
    _two(world)
    response = client.get("/sites/cambridge/charter/diff?from=1&to=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<del class="bg-danger-subtle"><span class="visually-hidden">[removed: </span>reduce' in html
    assert '<ins class="bg-success-subtle"><span class="visually-hidden">[added: </span>end' in html
    page = text_of(response)
    assert "Changes from version 1 to version 2" in page
    assert "1 line added, 1 line removed, 1 line changed" in page
    assert "Added line: - Learn from people who use services." in page
    assert "Removed line: - Publish it." in page
    assert "Stronger wording." in page
    assert "Title: removed: Charter one → added: Charter two" in page
    assert "[removed: reduce ] [added: end ] restrictive practice." in page


def test_diff_in_either_direction(client, world):
    _two(world)
    page = text_of(client.get("/sites/cambridge/charter/diff?from=v2&to=v1"))
    assert "Changes from version 2 to version 1" in page
    assert "Removed line: - Learn from people who use services." in page


def test_diff_escapes_everything(client, world):
    _two(world, old="Plain text", new='Plain text <script>alert("x")</script> <b>bold</b>')
    response = client.get("/sites/cambridge/charter/diff?from=1&to=2")
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


@pytest.mark.parametrize(("query", "message"), [
    ("", "Choose two versions to compare."),
    ("?from=1", "Choose two versions to compare."),
    ("?from=one&to=2", "Version numbers are whole numbers"),
    ("?from=-1&to=2", "Version numbers are whole numbers"),
    ("?from=1.5&to=2", "Version numbers are whole numbers"),
    ("?from=١&to=2", "Version numbers are whole numbers"),  # Arabic-Indic digit
    ("?from=2&to=2", "Choose two different versions"),
])
def test_missing_invalid_or_equal_numbers_get_a_clear_message(client, world, query, message):
    _two(world)
    response = client.get(f"/sites/cambridge/charter/diff{query}")
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert "From version" in page  # the form to choose again


@pytest.mark.parametrize("query", ["?from=1&to=3", "?from=0&to=1",
                                   "?from=1&to=99999999999999999999", f"?from=1&to={'9' * 5000}"])
def test_unknown_versions_are_not_found(client, world, query):
    _two(world)
    assert client.get(f"/sites/cambridge/charter/diff{query}").status_code == 404


def test_unknown_site_is_not_found(client, world):
    assert client.get("/sites/nowhere/charter/diff?from=1&to=2").status_code == 404


@pytest.mark.parametrize(("role", "status"), [
    ("public", 404), ("lead", 404), ("other_coordinator", 404), ("coordinator", 200), ("admin", 200),
])
def test_drafts_are_compared_only_by_the_sites_coordinators(client, world, role, status):
    _two(world)
    f.charter_version(world.site, 3, CharterStatus.DRAFT, body=NEW + "\n\nA draft paragraph.")
    if world.user(role):
        client.login(world.user(role))
    response = client.get("/sites/cambridge/charter/diff?from=2&to=3")
    assert response.status_code == status
    if status == 200:
        assert "Added line: A draft paragraph." in text_of(response)

"""EXPLAIN of every query the public list pages run: none reads the whole commitment or
measurement table.

Each page is requested once; every SELECT it sends is captured with its parameters and
EXPLAINed (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with `enable_seqscan` off in the
same transaction, since on a few test rows the planner rightly prefers a sequential scan:
there the assertion proves that an index *can* serve the query, not that the planner will
choose it on small tables). A full scan is SQLite's `SCAN commitment` (with or without an
index: both read every row) or PostgreSQL's `Seq Scan on commitment`.

What it does not prove: the time. SQLite plans without ANALYZE statistics, so they are the
same on a few rows as on the generated set; the figures on the generated set are in the
report of issue 12.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from charter.extensions import db
from tests import factories as f
from tests.conftest import is_postgres

BIG_TABLES = ("commitment", "measurement")
PAGES = [
    "/signatories", "/signatories?page=2", "/reports", "/partnerships", "/domains/{domain}",
    "/api/v1/commitments?per_page=100", "/api/v1/commitments?after=1",
    "/api/v1/measurements?after=1", "/api/v1/reports", "/api/v1/organisations",
]


@pytest.fixture
def listed(world):
    version = f.charter_version(world.site)
    domain = f.domain("Healing environments")
    for i in range(3):
        org = f.organisation(world.site, f"Listed {i}")
        f.signature(org, version, world.user("lead"))
        f.commitment(org, domain)
    db.session.commit()
    return domain


def _captured(client, url: str) -> list[tuple[str, object]]:
    found = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert response.status_code == 200, url
    return found


def _plan(statement: str, parameters) -> str:
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if is_postgres():
        with raw.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, parameters or None)
            return "\n".join(row[0] for row in cursor.fetchall())
    cursor = raw.cursor()
    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters or ())
    return "\n".join(str(row[-1]) for row in cursor.fetchall())


def _full_scans(plan: str) -> list[str]:
    tables = "|".join(BIG_TABLES)
    pattern = (rf"Seq Scan on ({tables})\b" if is_postgres()
               else rf"\bSCAN ({tables})\b(?! USING INTEGER PRIMARY KEY)")
    return re.findall(pattern, plan)


def _forget_sqlite_statistics() -> None:
    """Plan as on a database never analysed, whatever an earlier test left in sqlite_stat1."""
    from sqlalchemy import text

    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
            conn.execute(text("DELETE FROM sqlite_stat1"))
    db.session.commit()  # (gives its connection back to the pool)
    db.engine.dispose()  # connections load the statistics when they open


@pytest.mark.parametrize("page", PAGES)
def test_no_public_list_query_reads_all_commitments_or_measurements(client, listed, page):
    url = page.format(domain=listed.slug)
    _forget_sqlite_statistics()  # another test's ANALYZE (on tiny tables) would favour scans
    statements = _captured(client, url)
    assert statements
    db.session.rollback()
    for statement, parameters in statements:
        plan = _plan(statement, parameters)
        assert not _full_scans(plan), f"{url}: full scan in\n{plan}\nof\n{statement}"
    db.session.rollback()


def test_the_check_sees_a_full_scan(client, listed):
    """The assertion above can fail: an unindexed filter on commitments is a full scan."""
    plan = _plan("SELECT id FROM commitment WHERE lower(title) = 'x'", None)
    assert _full_scans(plan)
    db.session.execute(text("SELECT 1"))


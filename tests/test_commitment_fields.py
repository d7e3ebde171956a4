"""A commitment's public fields are declared once (charter.commitments.fields): the bulk
download, the coordinators' export, the API (and its OpenAPI document) and the snapshot of
a report all take them from there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from charter.api import bulk, schemas
from charter.commitments.fields import COMMITMENT_FIELDS
from charter.dashboards import exports

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter: the readers build their columns and schemas when they are
# imported, so the extra field is declared before anything else of charter is imported.
SCRIPT = textwrap.dedent('''
    import csv, io, json, sys, zipfile
    from datetime import date

    from charter.commitments import fields
    from charter.tabular import Column

    fields.COMMITMENT_FIELDS = (*fields.COMMITMENT_FIELDS, fields.Field(
        "recorded_at", "datetime", "When it was recorded.",
        Column("Recorded at (UTC)", "When it was recorded.", 18), attribute="created_at"))

    from charter import create_app
    from charter.api import bulk
    from charter.dashboards import exports
    from charter.extensions import db
    from charter.models import CommitmentStatus
    from charter.reports.snapshot import build_snapshot
    from tests import factories as f

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
    out = {}
    with app.test_request_context("/"):
        db.create_all()
        site = f.site("here")
        org = f.organisation(site, "Fenland Trust")
        admin = f.user(is_admin=True)
        c = f.commitment(org, f.domain("Least restrictive practice"),
                         status=CommitmentStatus.PUBLISHED, start_date=date(2026, 1, 1))
        c.published_at = c.created_at
        snapshot = build_snapshot(f.report(org, f.cycle(site)))
        db.session.commit()
        commitment_id, recorded = c.id, c.created_at
        out["recorded"] = recorded.isoformat()
        out["snapshot"] = snapshot["domains"][0]["commitments"][0]
        with zipfile.ZipFile(io.BytesIO(b"".join(bulk.stream_zip()))) as zf:
            out["bulk"] = list(csv.DictReader(io.StringIO(zf.read("commitments.csv").decode())))
            out["dictionary"] = list(csv.DictReader(io.StringIO(zf.read("data-dictionary.csv").decode())))
        text = b"".join(exports.export_csv(admin, None, "commitments")).decode("utf-8-sig")
        out["export"] = list(csv.DictReader(io.StringIO(text)))
    client = app.test_client()
    out["api_list"] = client.get("/api/v1/commitments").get_json()["data"]
    out["api_one"] = client.get(f"/api/v1/commitments/{commitment_id}").get_json()
    out["openapi"] = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    print(json.dumps(out, default=str))
''')


def test_the_readers_hold_the_declared_fields_in_order():
    names = [f.name for f in COMMITMENT_FIELDS]
    csv_file = next(f for f in bulk.FILES if f.name == "commitments.csv")
    assert [c.header for c in csv_file.columns][4:-1] == names
    export = [c.header for c in exports.DATASETS["commitments"].columns]
    assert export[5:] == ([f.export.header for f in COMMITMENT_FIELDS if not f.long_text]
                          + ["Accepted partners"]
                          + [f.export.header for f in COMMITMENT_FIELDS if f.long_text])
    api = list(schemas.CommitmentSchema._declared_fields)
    assert [n for n in api if n in names] == names
    assert api[:4] == ["id", "title", "description", "status"]
    assert api[4:7] == ["organisation", "site", "domain"]


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_one_more_declared_field_appears_in_every_reader(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'fields.sqlite3'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    recorded = _instant(out["recorded"])

    # The bulk download: the column after the other declared fields, and its dictionary entry.
    row = out["bulk"][0]
    assert list(row)[-2:] == ["recorded_at", "html_url"]
    assert _instant(row["recorded_at"]) == recorded
    assert {"file": "commitments.csv", "column": "recorded_at", "type": "datetime",
            "description": "When it was recorded."}.items() <= next(
        r for r in out["dictionary"] if r["column"] == "recorded_at").items()

    # The coordinators' export: before the partner count (it is not long text).
    row = out["export"][0]
    assert list(row)[-3:] == ["Recorded at (UTC)", "Accepted partners", "Description"]
    assert row["Recorded at (UTC)"].endswith("Z")  # UTC, to the second
    assert _instant(row["Recorded at (UTC)"]) == recorded.replace(microsecond=0)

    # The API: in the list, in one commitment and in the OpenAPI document.
    assert out["api_list"][0]["recorded_at"] == out["api_one"]["recorded_at"]
    assert _instant(out["api_one"]["recorded_at"]) == recorded
    for name in ("Commitment", "CommitmentDetail"):
        prop = out["openapi"][name]["properties"]["recorded_at"]
        assert prop["format"] == "date-time"
        assert prop["description"] == "When it was recorded (ISO 8601, UTC)."

    # The report snapshot.
    assert _instant(out["snapshot"]["recorded_at"]) == recorded
    assert out["snapshot"]["start_date"] == "2026-01-01"

"""charter.blobs: content-addressed files, written once, served with ETag and 304."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask

from charter import blobs


def test_put_stores_the_bytes_under_their_digest(app):
    data = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    digest = blobs.put(data, ".svg")
    assert digest == hashlib.sha256(data).hexdigest()
    stored = blobs.path_of(digest, ".svg")
    assert stored.read_bytes() == data
    assert stored.parent.name == digest[:2]
    assert blobs.put(data, ".svg") == digest  # a second put changes nothing
    # No temporary left beside it (other tests' blobs may share the folder).
    assert [p.name for p in stored.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("digest, suffix", [
    ("../../etc/passwd", ".svg"), ("A" * 64, ".svg"), ("a" * 63, ".svg"),
    ("a" * 64, "/x"), ("a" * 64, ".svg/../x"), ("a" * 64, ""),
])
def test_names_other_than_a_digest_and_a_suffix_are_refused(app, digest, suffix):
    with pytest.raises(ValueError):
        blobs.path_of(digest, suffix)
    assert not blobs.exists(digest, suffix)


def _serving_app(blob_dir) -> Flask:
    app = Flask(__name__)
    app.config["BLOB_DIR"] = str(blob_dir)

    @app.get("/b/<digest>.svg")
    def serve(digest):
        return blobs.send(digest, ".svg", "image/svg+xml")

    return app


def test_send_streams_from_disk_with_etag_and_answers_304(tmp_path):
    app = _serving_app(tmp_path)
    with app.app_context():
        digest = blobs.put(b"<svg/>", ".svg")
    client = app.test_client()
    response = client.get(f"/b/{digest}.svg")
    assert response.status_code == 200
    assert response.data == b"<svg/>"
    assert response.mimetype == "image/svg+xml"
    assert response.headers["ETag"] == f'"{digest}"'
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    again = client.get(f"/b/{digest}.svg", headers={"If-None-Match": f'"{digest}"'})
    assert again.status_code == 304
    assert again.data == b""


def test_send_answers_404_for_a_missing_or_malformed_name(tmp_path):
    client = _serving_app(tmp_path).test_client()
    assert client.get(f"/b/{'0' * 64}.svg").status_code == 404
    assert client.get("/b/nothex.svg").status_code == 404

"""charter/pdf.py (the safe URL fetcher, plain-value contexts, A4 with page numbers) and
the signature certificate it renders."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from charter import pdf
from charter.extensions import db
from charter.models import CharterStatus, SignatureWithdrawal
from tests import factories as f


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squashed(text: str) -> str:
    """Text without whitespace: PDF text extraction guesses where spaces go, and guesses
    differently when a fallback font (for emoji, say) is on the page."""
    return "".join(text.split())


def font_names(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


@pytest.fixture
def fetcher(app):
    return pdf.fetcher()


# --- the URL fetcher ----------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://example.org/logo.png",
    "https://example.org/style.css",
    "http://127.0.0.1:9/static/css/charter.css",  # another host's /static/
    "https://localhost.evil.example/static/css/charter.css",
    "http://localhost@evil.example/static/css/charter.css",
    "http://localhost/healthz",  # the app itself, but not its static files
    "http://localhost/static/../config.py",
    "http://localhost/static/%2e%2e/config.py",
    "file:///etc/passwd",
    "file:///etc/hostname",
    "charter-static:../config.py",
    "charter-static:../../../../etc/passwd",
    "charter-static:/etc/passwd/../../../etc/passwd",
    "charter-static:",
    "charter-static:css",  # a folder, not a file
    "charter-static:no/such/file.css",
    "ftp://example.org/file",
    "gopher://example.org/",
    "javascript:alert(1)",
])
def test_the_fetcher_refuses_everything_but_static_files(fetcher, url):
    with pytest.raises(pdf.RefusedURL):
        fetcher.fetch(url)


def test_the_fetcher_refuses_a_file_outside_static_even_by_its_real_path(app, fetcher):
    outside = Path(app.root_path).parent / "config.py"
    assert outside.is_file()
    with pytest.raises(pdf.RefusedURL):
        fetcher.fetch(outside.as_uri())


def test_the_fetcher_refuses_a_symlink_out_of_static(app, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("p { color: red }")
    (tmp_path / "secret.txt").write_text("secret")
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    fetcher = pdf.SafeURLFetcher(static, "/static", "http://localhost")
    assert fetcher.fetch("charter-static:ok.css").read() == b"p { color: red }"
    with pytest.raises(pdf.RefusedURL):
        fetcher.fetch("charter-static:link.txt")


def test_the_fetcher_serves_static_files_and_data_urls(app, fetcher):
    css = (Path(app.static_folder) / "css" / "charter.css").read_bytes()
    for url in ("charter-static:css/charter.css", "http://localhost/static/css/charter.css",
                (Path(app.static_folder) / "css" / "charter.css").as_uri()):
        response = fetcher.fetch(url)
        assert response.read() == css, url
        assert response.content_type == "text/css"
    font = fetcher.fetch(pdf.pdf_static("vendor/fonts/noto-sans-latin-400-normal.woff2"))
    assert font.read()[:4] == b"wOF2"
    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"


@pytest.fixture
def spy_server():
    """A local web server that counts every request made to it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.pdf
def test_weasyprint_fetches_nothing_from_elsewhere(app, spy_server, caplog):
    base, hits = spy_server
    html = f"""<!doctype html><html><head>
      <link rel="stylesheet" href="{base}/linked.css">
      <style>@import url("{base}/imported.css");
        @font-face {{ font-family: X; src: url("{base}/font.woff2"); }}
        body {{ background: url("{base}/background.png"); font-family: X; }}</style>
      </head><body><p>Hello</p><img src="{base}/image.png" alt="">
      <img src="file:///etc/passwd" alt=""><object data="{base}/object.svg"></object>
      <img src="static/css/charter.css" alt=""></body></html>"""
    data = pdf.html_to_pdf(html)
    assert data.startswith(b"%PDF")
    assert "Hello" in pdf_text(data)
    assert hits == []


# --- rendering ---------------------------------------------------------------------------

@pytest.mark.pdf
def test_render_pdf_is_a4_with_page_numbers_and_the_vendored_fonts(app):
    data = pdf.render_pdf("certificate.html", **certificate_values())
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    assert "Page 1 of 1" in pdf_text(data)
    assert any("Charter-Sans" in name for name in font_names(data))


def test_render_pdf_takes_plain_values_only(app, world):
    with pytest.raises(TypeError, match="plain values"):
        pdf.render_pdf("certificate.html", **{**certificate_values(), "organisation_name": world.org})
    with pytest.raises(TypeError, match="plain values"):
        pdf.render_pdf("certificate.html", **{**certificate_values(), "extra": [{"org": world.org}]})


def test_css_text_escapes_what_could_end_a_css_string():
    assert str(pdf.css_text('a"b\\c</style>\n')) == 'a\\22 b\\5c c\\3c /style\\3e \\a '


def certificate_values(**overrides) -> dict:
    values = {
        "organisation_name": "Fenland Trust", "site_name": "Cambridge", "version_number": 1,
        "version_title": "Cambridge charter", "signer_name": "Amara Okafor",
        "signer_job_title": "Chief Executive", "co_signatory_name": "", "co_signatory_role": "",
        "authority_statement": "I have the authority to sign on behalf of Fenland Trust",
        "signed_date": "26 November 2026", "signed_datetime": "26 Nov 2026, 09:14 GMT",
        "text_sha256": "a" * 64, "verification_code": "PRM-0K1Q-2XHD-M4TB",
        "verify_url": "http://localhost/verify/PRM-0K1Q-2XHD-M4TB", "withdrawn": False,
        "withdrawn_date": "", "withdrawn_datetime": "",
    }
    values.update(overrides)
    return values


# --- the certificate ----------------------------------------------------------------------

@pytest.fixture
def signature(world):
    version = f.charter_version(world.site, 3, CharterStatus.OPEN, title="The Cambridge PROMISE")
    signature = f.signature(world.org, version, world.user("lead"), signer_name="Amara Okafor",
                            signer_job_title="Chief Executive", co_signatory_name="Thandi Nkosi",
                            co_signatory_role="Peer support worker")
    db.session.commit()
    return signature


@pytest.mark.pdf
def test_the_certificate_pdf_holds_organisation_version_and_code(client, world, signature):
    response = client.get(f"/signatures/{signature.id}/certificate.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        'inline; filename="promise-charter-certificate-fenland-trust-v3.pdf"')
    data = response.get_data()
    assert data.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    text = pdf_text(data)
    assert "Fenland Trust" in text
    assert "signed version 3 of the Cambridge charter on" in text
    assert "Version 3: The Cambridge PROMISE" in text
    assert signature.verification_code in text
    assert f"http://localhost/verify/{signature.verification_code}" in text
    assert "Amara Okafor" in text and "Chief Executive" in text
    assert "Thandi Nkosi" in text and "Peer support worker" in text
    assert signature.text_sha256 in squashed(text)
    assert "WITHDRAWN" not in text


@pytest.mark.pdf
def test_the_certificate_of_a_withdrawn_signature_says_so_with_the_date(client, world, signature):
    db.session.add(SignatureWithdrawal(
        signature=signature, withdrawn_by=world.user("lead"), reason="Left.",
        withdrawn_at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC)))
    db.session.commit()
    text = pdf_text(client.get(f"/signatures/{signature.id}/certificate.pdf").get_data())
    assert "WITHDRAWN" in text
    assert "withdrawn on 1 December 2026" in text  # 23:30 UTC is still 1 December in Cambridge
    assert signature.verification_code in text


@pytest.mark.pdf
def test_the_certificate_shows_dates_in_the_sites_time_zone(client, world):
    version = f.charter_version(world.other_site, 1, CharterStatus.OPEN)
    org = f.organisation(world.other_site, "Brisbane North PHN")
    signature = f.signature(org, version, world.user("lead"),
                            signed_at=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    db.session.commit()
    text = pdf_text(client.get(f"/signatures/{signature.id}/certificate.pdf").get_data())
    assert "on 1 December 2026" in text  # 06:00 the next day in Brisbane
    assert "AEST" in text


@pytest.mark.pdf
def test_unicode_and_html_in_names_reach_the_pdf_as_text(client, world):
    version = f.charter_version(world.site, 1, CharterStatus.OPEN)
    org = f.organisation(world.site, "Národní ústav <i>duševního</i> zdraví & Co", slug="nudz")
    signature = f.signature(
        org, version, world.user("lead"), signer_name="Zuzana Dvořáková <script>x</script>",
        signer_job_title="Ředitelka 😀", co_signatory_name="Thandi van der Merwe",
        co_signatory_role="Ervaringsdeskundige ê ë")
    db.session.commit()
    response = client.get(f"/signatures/{signature.id}/certificate.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('-nudz-v1.pdf"')
    text = squashed(pdf_text(response.get_data()))
    for typed in ("Národní ústav <i>duševního</i> zdraví & Co", "Zuzana Dvořáková <script>x</script>",
                  "Ředitelka", "Thandi van der Merwe", "Ervaringsdeskundige ê ë",
                  signature.verification_code):
        assert squashed(typed) in text, typed


@pytest.mark.pdf
def test_chinese_names_still_make_a_certificate(client, world):
    """The vendored fonts cover Latin scripts only; Chinese characters are drawn as empty
    boxes until a CJK font is vendored, but the certificate is still made."""
    version = f.charter_version(world.site, 1, CharterStatus.OPEN)
    org = f.organisation(world.site, "香港心理健康会", slug="hk")
    signature = f.signature(org, version, world.user("lead"), signer_name="陈大文")
    db.session.commit()
    response = client.get(f"/signatures/{signature.id}/certificate.pdf")
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.get_data())).pages) == 1


@pytest.mark.pdf
def test_the_certificate_stays_on_one_page_with_the_longest_values(client, world):
    version = f.charter_version(world.site, 1, CharterStatus.OPEN, title="T" * 200)
    org = f.organisation(world.site, "Organisation " + "W" * 187)
    signature = f.signature(org, version, world.user("lead"), signer_name="N" * 120,
                            signer_job_title="J" * 120, co_signatory_name="C" * 120,
                            co_signatory_role="R" * 120)
    db.session.add(SignatureWithdrawal(signature=signature, withdrawn_by=world.user("lead"),
                                       reason="r" * 2000, withdrawn_at=datetime.now(UTC)))
    db.session.commit()
    data = client.get(f"/signatures/{signature.id}/certificate.pdf").get_data()
    assert len(PdfReader(io.BytesIO(data)).pages) == 1


def test_an_unknown_certificate_is_404(client, world):
    assert client.get("/signatures/999/certificate.pdf").status_code == 404


# --- issue 12: a long report stays compact ------------------------------------------------

@pytest.mark.pdf
def test_a_report_of_fifty_commitments_is_complete_within_45_pages(app, world):
    from charter.reports.rendering import render_report_pdf
    from charter.reports.snapshot import build_snapshot
    from tests.benchmarks.scenarios import _report_with_commitments

    report = _report_with_commitments(50)
    snapshot = build_snapshot(report)
    snapshot["revision"] = {"number": 1, "published_at": "2026-05-01T09:00:00+00:00", "change_note": ""}
    for n, commitment in enumerate(c for group in snapshot["domains"] for c in group["commitments"]):
        for m in commitment["indicators"][0]["measurements"]:  # distinct charts, as real data have
            m["value"] = str(Decimal(m["value"]) + n)
    data = render_report_pdf(snapshot)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) <= 45
    text = squashed("".join(page.extract_text() for page in reader.pages))
    for i in range(1, 51):
        assert f"Commitment{i}of50" in text
    assert text.count("MeasurementsofRestrictiveinterventions") == 50

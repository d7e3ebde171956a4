"""Who may reach the signing routes: signing, signatures, certificates, verification and
withdrawal (merged into tests/access.py)."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only, open_charter, signature_of


def _sign_url(w) -> str:
    open_charter(w)
    return f"/organisations/{w.org.slug}/sign"


def _signature(w):
    return signature_of(w)


LEAD_OR_SITE = ["lead", "coordinator", "admin"]

ACCESS: dict[tuple[str, str], Route] = {
    # Only a lead of the (active) organisation signs for it.
    ("signing.sign", "GET"): Route(_sign_url, only(["lead"])),
    ("signing.sign", "POST"): Route(_sign_url, only(["lead"], ok=400)),
    # Signatures, certificates and verification are public record.
    ("signing.signed", "GET"): Route(lambda w: f"/signatures/{_signature(w).id}", everyone(200)),
    ("signing.certificate", "GET"): Route(
        lambda w: f"/signatures/{_signature(w).id}/certificate.pdf", everyone(200)
    ),
    ("signing.verify_form", "GET"): Route(lambda w: "/verify", everyone(200)),
    ("signing.verify", "GET"): Route(
        lambda w: f"/verify/{_signature(w).verification_code}", everyone(200)
    ),
    # The organisation's lead, a coordinator of its site, or an admin.
    ("signing.withdraw", "GET"): Route(
        lambda w: f"/signatures/{_signature(w).id}/withdraw", only(LEAD_OR_SITE)
    ),
    ("signing.withdraw", "POST"): Route(
        lambda w: f"/signatures/{_signature(w).id}/withdraw", only(LEAD_OR_SITE, ok=400)
    ),
}

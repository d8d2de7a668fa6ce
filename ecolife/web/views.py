"""Server-rendered pages outside the API: ``/s/{token}``, what a phone's camera opens.

A plain Flask blueprint (not under /api/v1, not in the OpenAPI document): the reader is a
person with a phone, so every answer is a small HTML page, never JSON and never a 500.
"""
from pathlib import Path

from flask import Blueprint, make_response, render_template

from ecolife.codes import service as codes
from ecolife.errors import DomainError
from ecolife.headers import PAGE_CSP

blp = Blueprint(
    "landing", __name__, template_folder=str(Path(__file__).parent.parent / "codes" / "templates")
)

REASONS = {codes.CodeRevoked: "revoked", codes.CodeExpired: "expired"}
HEADERS = {
    # The address holds a live token: no caches, no referrers, no search engines.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": PAGE_CSP,
}


@blp.get("/s/", defaults={"token": ""})
@blp.get("/s/<path:token>")
def code_landing(token):
    """The shop and action behind a code, or a friendly 404 page."""
    try:
        page = codes.landing(token.removesuffix("/"))
    except DomainError as exc:
        body = render_template("codes/not_found.html", reason=REASONS.get(type(exc)))
        return make_response(body, 404, HEADERS)
    return make_response(render_template("codes/landing.html", **page), 200, HEADERS)

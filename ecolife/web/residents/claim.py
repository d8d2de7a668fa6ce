"""``/s/{token}``: what a phone's camera opens at a shop's sticker, and the tap that collects.

The page shows the shop, the action and its points. A logged-in resident collects with one
tap (``moves.collect``: the scan path of ``POST /scans``, with the phone's location when they
allow it, and the page's one-time key, so a double tap credits once); anyone else is offered
to log in or register and comes back here. Every refusal is a page saying what happened and
what to do, in the reader's language.
"""
from flask import Blueprint, redirect, render_template, session, url_for

from ecolife.codes import service as codes
from ecolife.errors import DomainError
from ecolife.extensions import db
from ecolife.scans.schemas import ScanIn
from ecolife.web.forms import FormErrors, form_text, load, one_time_key
from ecolife.web.residents import moves
from ecolife.web.session import current_web_user, page_roles_required

blp = Blueprint("claim", __name__)

# The address holds a live token: no caches, no referrers, no search engines.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Robots-Tag": "noindex"}
CLAIMED = "claimed"  # the result shown once after the redirect


@blp.get("/s/", defaults={"token": ""})
@blp.get("/s/<path:token>")
def sticker(token):
    """The shop and action behind a code, and the collect button (or why not)."""
    token = token.removesuffix("/")
    try:
        page = codes.landing(token)
    except DomainError as exc:
        return refused(exc)
    body = render_template("web/residents/claim.html", token=token, key=moves.new_key(),
                           user=current_web_user(), **page)
    return body, 200, HEADERS


@blp.post("/s/<path:token>")
@page_roles_required("resident")
def collect(token):
    """Collect the points: one tap, once."""
    token = token.removesuffix("/")
    try:
        key = one_time_key()
        # The API's own schema: a location is two numbers in range, both or neither.
        scan = load(ScanIn, {"token": token, **form_text("latitude", "longitude")})
    except FormErrors as exc:
        messages = [m for texts in exc.errors.values() for m in texts]
        return refused(DomainError(" ".join(messages), status=422, error="validation_error"))
    location = {k: scan[k] for k in ("latitude", "longitude") if k in scan}
    try:
        result = moves.collect(current_web_user().id, token, key, location)
    except DomainError as exc:
        return refused(exc)
    session[CLAIMED] = {
        "points": result["points"], "balance": result["balance"],
        "shop": result["shop"]["name"], "unit": result["impact"]["unit"],
        "amount": result["impact"]["amount"], "level": result["level"],
        "badges": [badge["name"] for badge in result["new_badges"]],
    }
    return redirect(url_for("claim.claimed"))


@blp.get("/claimed")
@page_roles_required("resident")
def claimed():
    """What the tap just earned (shown once: a reload goes home)."""
    result = session.pop(CLAIMED, None)
    if result is None:
        return redirect(url_for("residents.home"))
    return render_template("web/residents/claimed.html", result=result)


def refused(exc):
    """The friendly page of a refusal: what happened, and what to do now."""
    db.session.rollback()  # a refused scan writes nothing (as the API's handler ensures)
    body = render_template("web/residents/claim_refused.html", error=exc.error,
                           message=exc.message, retry_after=exc.extra.get("retry_after"))
    return body, exc.status, {**HEADERS, **exc.headers}

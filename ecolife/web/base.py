"""The web app's own address space: the front page, the stylesheet and scripts, and the
headers every page carries."""
import functools
import hashlib
from pathlib import Path

from flask import Blueprint, redirect, render_template, request, url_for

from ecolife.errors import is_page_request
from ecolife.headers import WEB_CSP
from ecolife.web.session import current_web_user, home_for

STATIC = Path(__file__).parent / "static"
YEAR = 365 * 24 * 3600


class AssetBlueprint(Blueprint):
    """Static files cached for a year when asked for by their versioned address."""

    def get_send_file_max_age(self, filename):
        # ?v= is the file's digest (asset_url): a new file has a new address, so an old one
        # can be kept forever; a phone on a slow network fetches the stylesheet once.
        return YEAR if request.args.get("v") else None


blp = AssetBlueprint("web", __name__, static_folder="static", static_url_path="/static/web",
                     template_folder="templates")


@blp.get("/")
def front():
    """The front page: a logged-in reader's home, else what EcoLife is and how to join."""
    user = current_web_user()
    if user is not None:
        return redirect(home_for(user))
    return render_template("web/welcome.html")


@functools.cache
def _digest(filename, mtime):
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:12]


def asset_url(filename):
    """The versioned address of a static file (its digest changes with its content)."""
    mtime = (STATIC / filename).stat().st_mtime_ns
    return url_for("web.static", filename=filename, v=_digest(filename, mtime))


def page_headers(response):
    """Every page: the strict CSP, never framed, and kept out of caches (pages are personal,
    and a back button must not show yesterday's balance)."""
    if is_page_request() and response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", WEB_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def register_base(app):
    app.register_blueprint(blp)
    app.after_request(page_headers)
    app.jinja_env.globals.update(asset_url=asset_url)

    @app.context_processor
    def logged_in_user():
        # Only pages ask who is logged in: the API's poster template does not read cookies.
        return {"web_user": current_web_user() if is_page_request() else None}

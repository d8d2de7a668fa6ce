"""HTML error pages, in the reader's language: what a person sees instead of the API's JSON.

``render_error_page`` is what ``ecolife.errors.error_response`` calls for a page's request
(the API keeps its JSON), so a refusal raised anywhere (a service's DomainError, a 404 of
an unknown address, a rate limit's 429, a crash's 500) becomes a page. A CSRF failure (a
form kept open too long, or posted from elsewhere) has a page of its own.
"""
import logging

from flask import make_response, render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from ecolife.errors import PAGE_RENDERER, discard_session, error_response, is_page_request

log = logging.getLogger(__name__)


def render_error_page(status, error, message, headers, extra):
    """An error page: its status, a title for it, the refusal's message translated."""
    try:
        body = render_template("web/error.html", status=status, error=error,
                               message=gettext(message), retry_after=extra.get("retry_after"))
    except Exception:
        # The page itself could not be drawn (the database is down, which the layout asks
        # who is logged in): a plain line rather than a crash inside the error handler.
        log.exception("error page failed for %s %s", status, error)
        discard_session()
        body = f"<!doctype html><title>EcoLife</title><p>{status}</p>"
    response = make_response(body, status)
    response.headers.update(headers)
    return response


def register_error_pages(app):
    app.extensions[PAGE_RENDERER] = render_error_page

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        if not is_page_request():  # the API is exempt: this never happens, but answer JSON
            return error_response(400, "bad_request", exc.description)
        body = render_template("web/error.html", status=400, error="csrf_failed",
                               message=gettext("This form has expired. Go back, reload the "
                                               "page and try again."), retry_after=None)
        return make_response(body, 400)

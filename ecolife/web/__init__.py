"""The web app: server-rendered pages for people on phones, outside /api/v1 and its OpenAPI
document, calling the same service functions as the API's views.

``register_web(app, api_blueprints)`` (from ``create_app``) sets up what every page shares:
the session login (``session.py``), CSRF on every form (the API's blueprints are exempt:
they take bearer tokens, never cookies), Thai and English (``i18n.py``), HTML error pages
(``errors.py``), the strict CSP and the static files (``base.py``), then each group of pages.
"""
from datetime import timedelta

from ecolife.extensions import babel, csrf

# One module per group of pages, each with a ``blp``.
PAGES = (
    "ecolife.web.account",
    "ecolife.web.residents.claim",
    "ecolife.web.residents.home",
    "ecolife.web.residents.rewards",
    "ecolife.web.residents.boards",
)


def register_web(app, api_blueprints):
    from ecolife.web.base import register_base
    from ecolife.web.errors import register_error_pages
    from ecolife.web.i18n import register_i18n, select_locale

    for blp in api_blueprints:
        csrf.exempt(blp)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.permanent_session_lifetime = timedelta(days=app.config["WEB_SESSION_DAYS"])
    register_base(app)
    register_i18n(app)
    for module in PAGES:
        app.register_blueprint(__import__(module, fromlist=["blp"]).blp)
    register_error_pages(app)

"""Thai and English: which one a request gets, the switch between them, and the words the
pages put around numbers (impact, levels, dates).

A page: the language the reader chose (the ``lang`` cookie the switch sets), else the best
of Thai and English their browser asks for (Accept-Language), else Thai. An API request:
Accept-Language alone, English unless it asks for Thai (its messages were English before
there was a choice, and a client that asks for nothing keeps them).
"""
from datetime import timedelta

from flask import Blueprint, current_app, redirect, request
from flask_babel import format_datetime, get_locale, gettext, lazy_gettext, ngettext

from ecolife.errors import is_page_request
from ecolife.web.session import safe_next

LOCALES = ("th", "en")
LANG_COOKIE = "lang"
LANG_COOKIE_DAYS = 365

blp = Blueprint("i18n", __name__)


def select_locale():
    """Flask-Babel's locale selector (see the module's docstring)."""
    if not is_page_request():
        return request.accept_languages.best_match(("en", "th"), default="en")
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES, default="th")


@blp.get("/lang/<code>")
def switch_language(code):
    """Switch the pages to ``code`` (th or en), remember it, and go back where the reader was."""
    response = redirect(safe_next(request.args.get("next")))
    if code in LOCALES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=int(timedelta(days=LANG_COOKIE_DAYS).total_seconds()),
            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


# What a scan avoided, in plain words. A unit an operator adds later has no words here: it is
# shown as "3 × unit_name", still true.
IMPACT_WORDS = {
    "plastic_bag": lambda n: ngettext("%(num)d plastic bag avoided",
                                      "%(num)d plastic bags avoided", n),
    "straw": lambda n: ngettext("%(num)d straw avoided", "%(num)d straws avoided", n),
    "plastic_cup": lambda n: ngettext("%(num)d plastic cup avoided",
                                      "%(num)d plastic cups avoided", n),
    "foam_box": lambda n: ngettext("%(num)d foam box avoided", "%(num)d foam boxes avoided", n),
    "plastic_bottle": lambda n: ngettext("%(num)d plastic bottle avoided",
                                         "%(num)d plastic bottles avoided", n),
}

# The config's level names and the default badges', for the catalogue (the names are stored
# in English; a name an operator changes is shown as they wrote it).
CATALOGUE_WORDS = (
    lazy_gettext("Seedling"), lazy_gettext("Sprout"), lazy_gettext("Sapling"),
    lazy_gettext("Young Tree"), lazy_gettext("Forest Keeper"), lazy_gettext("Eco Champion"),
    lazy_gettext("First step"), lazy_gettext("Your first credited scan."),
    lazy_gettext("Regular"), lazy_gettext("10 credited scans."),
    lazy_gettext("Habit"), lazy_gettext("100 credited scans."),
    lazy_gettext("Explorer"), lazy_gettext("Scanned at 5 different shops."),
    lazy_gettext("One week"), lazy_gettext("7 days in a row."),
    lazy_gettext("One month"), lazy_gettext("30 days in a row."),
    lazy_gettext("Bag refuser"), lazy_gettext("50 plastic bags avoided."),
    lazy_gettext("Foam free"), lazy_gettext("20 foam boxes avoided."),
)


def impact_words(unit, amount):
    """``42 plastic bags avoided`` (or its Thai), for one unit and its amount."""
    words = IMPACT_WORDS.get(unit)
    return words(amount) if words else f"{amount} × {unit}"


def action_label(name, name_th=None):
    """An earning rule's name in the page's language (the Thai one when it has one)."""
    return name_th if name_th and str(get_locale()) == "th" else name


# CLDR's "short" Thai style is 8/12/26 (day, month or year first?): spell the month instead.
DATE_PATTERNS = {"short": "d MMM HH:mm", "medium": "d MMM y HH:mm"}


def when(value, style="medium"):
    """A time in the programme's time zone and the reader's language: 8 ธ.ค. 2026 05:07."""
    return format_datetime(value, DATE_PATTERNS.get(style, style)) if value is not None else ""


def translated(text):
    """Stored text (a level's, a badge's name) in the page's language if the catalogue has
    it; as it is otherwise. Never "" through gettext, which answers the catalogue's header."""
    return gettext(text) if text else text


def register_i18n(app):
    app.register_blueprint(blp)
    app.jinja_env.filters.update(when=when, translated=translated)
    app.jinja_env.globals.update(impact_words=impact_words, action_label=action_label,
                                 get_locale=get_locale, LOCALES=LOCALES)

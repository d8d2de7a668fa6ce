"""Register, log in, log out: a resident's (or anyone's) way in, by phone or email.

The same service calls as ``/api/v1/auth``, and the same rate limits (shared: see
``ecolife.auth.limits``); a login starts a web session instead of issuing tokens.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from ecolife.auth import schemas as auth_schemas, service as auth
from ecolife.auth.limits import LOGIN_LIMITS, REGISTER_LIMITS, limited
from ecolife.errors import Invalid
from ecolife.gamification.tree import load_tree
from ecolife.web.forms import FormErrors, form_text, load
from ecolife.web.session import (
    current_web_user, home_for, log_in, log_out, page_roles_required, safe_next,
)

blp = Blueprint("account", __name__)


def village_choices():
    """[(tambon name, [(village id, village name), ...]), ...] for a village picker."""
    tree = load_tree()
    groups = {}
    for village_id in tree.of_kind("village"):
        node = tree.nodes[village_id]
        parent = tree.nodes.get(node.parent_id)
        groups.setdefault(parent.name if parent else "", []).append((node.id, node.name))
    return sorted(groups.items())


def _next():
    return safe_next(request.values.get("next"), default="")


@blp.route("/login", methods=["GET", "POST"])
@limited(LOGIN_LIMITS)
def login():
    """Log in with a phone number or an email address and a password."""
    if request.method == "GET":
        return render_template("web/account/login.html", next=_next(), errors={}, values={})
    values = {}
    try:
        values = form_text("login", "password")
        data = load(auth_schemas.LoginIn, values)
        user = auth.authenticate(data["login"], data["password"])
    except FormErrors as exc:
        return _login_again(values, exc.errors, 422)
    except auth.InvalidCredentials:
        return _login_again(values, {"password": [gettext("Wrong phone, email or password.")]},
                            401)
    log_in(user)
    return redirect(_next() or home_for(user))


def _login_again(values, errors, status):
    values = {"login": values.get("login", "")}  # never the password back
    return render_template("web/account/login.html", next=_next(), errors=errors,
                           values=values), status


@blp.route("/register", methods=["GET", "POST"])
@limited(REGISTER_LIMITS)
def register():
    """Join as a resident: a phone number or an email address, a name, a password."""
    if request.method == "GET":
        return _register_form({}, {}, 200)
    values = {}
    try:
        values = form_text("login", "display_name", "password", "community_id")
        typed = values.get("login", "")
        data = {"email" if "@" in typed else "phone": typed} if typed else {}
        data.update({k: values[k] for k in ("display_name", "password") if k in values})
        if "community_id" in values:
            data["community_id"] = _whole_number(values["community_id"])
        fields = {"email": "login", "phone": "login"}
        user = auth.register(**load(auth_schemas.RegisterIn, data, fields))
    except FormErrors as exc:
        return _register_form(values, exc.errors, 422)
    except auth.AlreadyRegistered:
        errors = {"login": [gettext("That phone number or email is already registered. "
                                    "Log in instead.")]}
        return _register_form(values, errors, 409)
    except Invalid as exc:  # the village is not one (check_community)
        return _register_form(values, {"community_id": [gettext(t) for t in
                                                        exc.extra["errors"]["community_id"]]}, 422)
    log_in(user)
    flash(gettext("Welcome to EcoLife, %(name)s!", name=user.display_name))
    return redirect(_next() or home_for(user))


def _whole_number(text):
    return int(text) if text.isdigit() else text  # anything else: the schema refuses it


def _register_form(values, errors, status):
    values = {k: v for k, v in values.items() if k != "password"}
    return render_template("web/account/register.html", next=_next(), errors=errors,
                           values=values, villages=village_choices()), status


@blp.post("/logout")
def logout():
    """End this browser's session on the server too: a copy of the cookie is refused."""
    log_out()
    flash(gettext("You are logged out."))
    return redirect(url_for("web.front"))


@blp.get("/account")
@page_roles_required()
def account():
    """Who is logged in (the home of a role whose pages are not built yet)."""
    return render_template("web/account/account.html", user=current_web_user())

"""A resident's home, history, badges, village and profile."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from ecolife.badges import service as badges
from ecolife.errors import Invalid
from ecolife.impact import service as impact, stats
from ecolife.pagination import paginate
from ecolife.points import service as points
from ecolife.scans import service as scans
from ecolife.users import service as users
from ecolife.users.schemas import MePatchIn
from ecolife.web.account import village_choices
from ecolife.web.forms import FormErrors, form_text, load
from ecolife.web.pages import page_parameters, pager
from ecolife.web.session import current_web_user, page_roles_required

blp = Blueprint("residents", __name__)
resident_page = page_roles_required("resident")


def level_progress(level, lifetime_points):
    """How far through their level the resident is, in percent (100 at the top level)."""
    if level["points_to_next"] is None:
        return 100
    start = current_app.config["LEVELS"][level["number"] - 1][0]
    span = lifetime_points + level["points_to_next"] - start
    return round(100 * (lifetime_points - start) / span) if span else 100


@blp.get("/home")
@resident_page
def home():
    """Balance, points expiring soon, level, streak, impact, the latest scans."""
    user = current_web_user()
    me = users.describe(user)
    recent = scans.list_my_scans(user, page_parameters(page_size=3))
    return render_template(
        "web/residents/home.html", me=me, impact=impact.user_impact(user.id), recent=recent,
        progress=level_progress(me["level"], me["lifetime_points"]))


@blp.get("/history")
@resident_page
def history():
    """The resident's scans, or their points ledger (``?show=points``)."""
    user = current_web_user()
    show = "points" if request.args.get("show") == "points" else "scans"
    parameters = page_parameters()
    if show == "scans":
        rows = scans.list_my_scans(user, parameters)
    else:
        rows = paginate(points.ledger_query(user), parameters)
    return render_template("web/residents/history.html", show=show, rows=rows,
                           pager=pager(parameters))


@blp.get("/badges")
@resident_page
def my_badges():
    """Every badge of the catalogue, the resident's own first and dated."""
    user = current_web_user()
    earned = paginate(badges.my_badges_query(user), page_parameters(page_size=100))
    catalogue = paginate(badges.catalogue_query(user), page_parameters(page_size=100))
    owned = {award.badge_id: award for award in earned}
    return render_template("web/residents/badges.html", catalogue=catalogue, owned=owned)


@blp.get("/village")
@resident_page
def village():
    """The resident's village: members, how many take part, points, impact, clean or not."""
    user = current_web_user()
    village_stats = stats.community_stats(user.community_id) if user.community_id else None
    return render_template("web/residents/village.html", stats=village_stats)


@blp.route("/me", methods=["GET", "POST"])
@resident_page
def profile():
    """The resident's name and village, and the way to everything else."""
    user = current_web_user()
    values, errors, status = {"display_name": user.display_name,
                              "community_id": user.community_id}, {}, 200
    if request.method == "POST":
        try:
            values = form_text("display_name", "community_id")
            changes = {"display_name": values.get("display_name", ""),
                       "community_id": _community(values.get("community_id"))}
            users.update_me(user, load(MePatchIn, changes))
        except FormErrors as exc:
            errors, status = exc.errors, 422
        except Invalid as exc:  # not a village
            errors, status = {k: [gettext(t) for t in v] for k, v in
                              exc.extra["errors"].items()}, 422
        else:
            flash(gettext("Saved."))
            return redirect(url_for("residents.profile"))
    return render_template("web/residents/profile.html", user=user, values=values,
                           errors=errors, villages=village_choices()), status


def _community(text):
    if text is None:
        return None  # "not set": leaves the village
    return int(text) if text.isdigit() and len(text) < 12 else text

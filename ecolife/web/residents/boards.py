"""Leaderboards: the resident's village, tambon, district and province, by week, month or all
time (points earned), with their own rank even from outside the top."""
from flask import Blueprint, render_template, request

from ecolife.gamification.tree import load_tree
from ecolife.leaderboards import service as leaderboards
from ecolife.web.session import current_web_user, page_roles_required

blp = Blueprint("ranks", __name__)

SCOPES = ("village", "tambon", "district", "province")
PERIODS = ("week", "month", "all")
TOP = 20


@blp.get("/leaderboards")
@page_roles_required("resident")
def board():
    """One board: ``?scope=village|tambon|district|province&period=week|month|all``."""
    user = current_web_user()
    scope = request.args.get("scope") if request.args.get("scope") in SCOPES else "village"
    period = request.args.get("period") if request.args.get("period") in PERIODS else "week"
    # The resident's own places, village first: the boards they can compare themselves on.
    places = {}
    if user.community_id is not None:
        tree = load_tree()
        places = {tree.nodes[cid].kind: tree.nodes[cid] for cid in tree.chain(user.community_id)}
    place = places.get(scope)
    result = leaderboards.read_board(user, period, place.id if place else None, TOP)
    return render_template("web/residents/leaderboards.html", board=result, scope=scope,
                           period=period, place=place, places=places, scopes=SCOPES,
                           periods=PERIODS)

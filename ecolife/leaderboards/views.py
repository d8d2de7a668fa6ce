"""/leaderboards: residents ranked by points earned, and communities by points per member."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, login_required
from ecolife.errors import ErrorSchema
from ecolife.leaderboards import schemas, service

blp = Blueprint("leaderboards", __name__, url_prefix="/leaderboards",
                description="Leaderboards: points earned per week, month and all time")

UNAVAILABLE = "`leaderboard_unavailable`: Redis, which holds the boards, does not answer"


@blp.route("")
class Leaderboard(MethodView):
    @login_required
    @blp.arguments(schemas.BoardQuery, location="query")
    @blp.response(200, schemas.BoardOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_community`")
    @blp.alt_response(503, schema=ErrorSchema, description=UNAVAILABLE)
    def get(self, query):
        """The top of a board (global or a community's) and the caller's own rank."""
        return service.read_board(current_user(), **query)


@blp.route("/communities")
class CommunityLeaderboard(MethodView):
    @blp.arguments(schemas.CommunityBoardQuery, location="query")
    @blp.response(200, schemas.CommunityRankOut(many=True))
    @blp.paginate(max_page_size=100)
    @blp.alt_response(503, schema=ErrorSchema, description=UNAVAILABLE)
    def get(self, query, pagination_parameters):
        """Communities of one kind ranked by points earned per member."""
        return service.rank_communities(query["period"], query["kind"], pagination_parameters)

"""/communities: the places residents belong to."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, roles_required
from ecolife.communities import schemas, service
from ecolife.errors import ErrorSchema
from ecolife.pagination import paginate

blp = Blueprint("communities", __name__, url_prefix="/communities", description="Communities")


@blp.route("")
class Communities(MethodView):
    @blp.arguments(schemas.CommunityQuery, location="query")
    @blp.response(200, schemas.CommunityOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, query, pagination_parameters):
        """List communities, optionally of one kind or under one parent."""
        return paginate(service.list_query(**query), pagination_parameters)

    @roles_required("operator")
    @blp.arguments(schemas.CommunityIn)
    @blp.response(201, schemas.CommunityOut)
    def post(self, data):
        """Create a community under its parent (operators)."""
        return service.create_community(current_user(), data)


# A move reaches the stats at once (they roll up the current tree); the leaderboards keep
# each credit where it was published, and moving the past is a rebuild of every board.
MOVE = (
    "A move (`parent_id`) counts at once in `/stats` and for the members' next credits. Points "
    "already on the leaderboards stay on the boards of the old parents until "
    "`flask --app wsgi rebuild-leaderboards` runs, which rebuilds every board on the "
    "current tree (without REDIS_URL the boards live in the server process: restart it "
    "instead)."
)


@blp.route("/<int:community_id>")
class CommunityById(MethodView):
    @blp.response(200, schemas.CommunityOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_community`")
    def get(self, community_id):
        """One community."""
        return service.get_community(community_id)

    @roles_required("operator")
    @blp.arguments(schemas.CommunityPatchIn)
    @blp.doc(description=MOVE)
    @blp.response(200, schemas.CommunityOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_community`")
    def patch(self, changes, community_id):
        """Rename or move a community (operators)."""
        return service.update_community(current_user(), community_id, changes)


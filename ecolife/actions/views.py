"""/actions: the earning rules (what a resident did, its points and its impact)."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.actions import schemas, service
from ecolife.auth.decorators import current_user, roles_required
from ecolife.errors import ErrorSchema
from ecolife.pagination import paginate

blp = Blueprint("actions", __name__, url_prefix="/actions", description="Earning rules")


@blp.route("")
class Actions(MethodView):
    @blp.arguments(schemas.ActionQuery, location="query")
    @blp.response(200, schemas.ActionOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, query, pagination_parameters):
        """List the earning rules, active and inactive."""
        return paginate(service.list_query(**query), pagination_parameters)

    @roles_required("operator")
    @blp.arguments(schemas.ActionIn)
    @blp.response(201, schemas.ActionOut)
    @blp.alt_response(409, schema=ErrorSchema, description="`action_exists`: the slug is taken")
    def post(self, data):
        """Create an earning rule (operators)."""
        return service.create_action(current_user(), data)


@blp.route("/<slug>")
class ActionBySlug(MethodView):
    @blp.response(200, schemas.ActionOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_action`")
    def get(self, slug):
        """One earning rule."""
        return service.get_action(slug)

    @roles_required("operator")
    @blp.arguments(schemas.ActionPatchIn)
    @blp.response(200, schemas.ActionOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_action`")
    def patch(self, changes, slug):
        """Change an earning rule (operators; the slug is fixed); past scans keep their points."""
        return service.update_action(current_user(), slug, changes)

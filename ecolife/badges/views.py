"""/badges: the catalogue and operators' changes; /me/badges: what the caller has earned."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import (
    current_user, login_required, optional_auth, optional_user, roles_required,
)
from ecolife.badges import schemas, service
from ecolife.errors import ErrorSchema
from ecolife.pagination import paginate

blp = Blueprint("badges", __name__, description="Badges: the catalogue and who earned what")


@blp.route("/badges")
class Badges(MethodView):
    @blp.response(200, schemas.BadgeOut(many=True))
    @blp.doc(**optional_auth())
    @blp.paginate(max_page_size=100)
    def get(self, pagination_parameters):
        """The badge catalogue (operators also see switched-off badges)."""
        return paginate(service.catalogue_query(optional_user()), pagination_parameters)

    @roles_required("operator")
    @blp.arguments(schemas.BadgeIn)
    @blp.response(201, schemas.BadgeOut)
    @blp.alt_response(409, schema=ErrorSchema, description="`badge_exists`: the slug is taken")
    def post(self, data):
        """Add a badge (operators); awarded from the next qualifying scan on."""
        return service.create_badge(current_user(), data)


@blp.route("/badges/<slug>")
class BadgeBySlug(MethodView):
    @blp.response(200, schemas.BadgeOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_badge`")
    @blp.doc(**optional_auth())
    def get(self, slug):
        """One badge of the catalogue."""
        return service.get_badge(optional_user(), slug)

    @roles_required("operator")
    @blp.arguments(schemas.BadgePatchIn)
    @blp.response(200, schemas.BadgeOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_badge`")
    def patch(self, changes, slug):
        """Change a badge or switch it off (operators); awards already made stay."""
        return service.update_badge(current_user(), slug, changes)


@blp.route("/me/badges")
class MyBadges(MethodView):
    @login_required
    @blp.response(200, schemas.MyBadgeOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, pagination_parameters):
        """The caller's badges, newest first."""
        return paginate(service.my_badges_query(current_user()), pagination_parameters)

"""/me: the caller's own account."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, login_required
from ecolife.users import schemas, service

blp = Blueprint("users", __name__, description="The caller's account")


@blp.route("/me")
class Me(MethodView):
    @login_required
    @blp.response(200, schemas.MeOut)
    def get(self):
        """The caller's account, balance, level, streak and points about to expire."""
        return service.describe(current_user())

    @login_required
    @blp.arguments(schemas.MePatchIn)
    @blp.response(200, schemas.MeOut)
    def patch(self, changes):
        """Change display name or village; role, balance and the like are refused (422)."""
        return service.update_me(current_user(), changes)

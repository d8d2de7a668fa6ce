"""/shops: the shops taking part, registered by owners and approved by operators."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, optional_auth, optional_user, roles_required
from ecolife.errors import ErrorSchema
from ecolife.shops import schemas, service

blp = Blueprint("shops", __name__, url_prefix="/shops", description="Shops")

# Ids are 32-bit columns: a larger one is a 404 at routing, never an overflow in the driver.
SHOP = "/<int:shop_id>"
HIDDEN = "`unknown_shop`: no such shop, or one the caller may not see or manage"


@blp.route("")
class Shops(MethodView):
    @blp.arguments(schemas.ShopQuery, location="query")
    @blp.response(200, schemas.ShopOut(many=True))
    @blp.doc(**optional_auth(also="`unauthorized` too for mine=true without a token"))
    @blp.paginate(max_page_size=100)
    def get(self, filters, pagination_parameters):
        """List approved shops (and the caller's own; operators: all), nearest first with near."""
        return service.list_shops(optional_user(), filters, pagination_parameters)

    @roles_required("shop_owner")
    @blp.arguments(schemas.ShopIn)
    @blp.response(201, schemas.ShopOut)
    def post(self, data):
        """Register a shop (shop owners); it starts pending until an operator approves it."""
        return service.register_shop(current_user(), data)


@blp.route(SHOP)
class ShopById(MethodView):
    @blp.response(200, schemas.ShopOut)
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.doc(**optional_auth())
    def get(self, shop_id):
        """One shop; a pending or suspended one is 404 except to its owner and operators."""
        return service.get_shop(optional_user(), shop_id)

    @roles_required("shop_owner", "operator")
    @blp.arguments(schemas.ShopPatchIn)
    @blp.response(200, schemas.ShopOut)
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    def patch(self, changes, shop_id):
        """Change a shop's details (its owner or an operator; another owner's shop is 404)."""
        return service.update_shop(current_user(), shop_id, changes)


@blp.route(SHOP + "/approve")
class ShopApprove(MethodView):
    @roles_required("operator")
    @blp.arguments(schemas.ShopDecisionIn)
    @blp.response(200, schemas.ShopOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_shop`")
    def post(self, decision, shop_id):
        """Approve a pending or suspended shop (operators; audited); its codes work again."""
        return service.set_shop_status(current_user(), shop_id, "approved", decision.get("reason"))


@blp.route(SHOP + "/suspend")
class ShopSuspend(MethodView):
    @roles_required("operator")
    @blp.arguments(schemas.ShopDecisionIn)
    @blp.response(200, schemas.ShopOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_shop`")
    def post(self, decision, shop_id):
        """Suspend a shop (operators; audited); its codes stop working while it is suspended."""
        return service.set_shop_status(current_user(), shop_id, "suspended", decision.get("reason"))

"""/rewards, /redemptions, /me/redemptions, /vouchers: what the points are for."""
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import (
    current_user, login_required, optional_auth, optional_user, roles_required,
)
from ecolife.errors import ErrorSchema, NoBodyIn
from ecolife.idempotency import service as idempotency
from ecolife.pagination import paginate
from ecolife.rewards import redemptions, schemas, service

blp = Blueprint("rewards", __name__, description="Rewards and vouchers")

IDEMPOTENCY = "`idempotency_conflict`: a request with this Idempotency-Key is still running"
SETTLED = (
    "`already_fulfilled` (used) or `voucher_not_valid` (cancelled, expired or past expires_at)"
)


@blp.route("/rewards")
class Rewards(MethodView):
    @blp.arguments(schemas.RewardQuery, location="query")
    @blp.response(200, schemas.RewardOut(many=True))
    @blp.alt_response(
        403, schema=ErrorSchema, description="`forbidden`: include=all, not an operator"
    )
    @blp.doc(**optional_auth())
    @blp.paginate(max_page_size=100)
    def get(self, query, pagination_parameters):
        """Rewards on sale now (in their window, shop approved), cheapest first; sold-out too."""
        return paginate(service.list_query(optional_user(), **query), pagination_parameters)

    @roles_required("operator")
    @blp.arguments(schemas.RewardIn)
    @blp.response(201, schemas.RewardOut)
    def post(self, data):
        """Add a reward to the catalogue (operators)."""
        return service.create_reward(current_user(), data)


@blp.route("/rewards/<int:reward_id>")
class RewardById(MethodView):
    @blp.response(200, schemas.RewardOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_reward`: missing, or not "
                      "on sale and the caller is not an operator")
    @blp.doc(**optional_auth())
    def get(self, reward_id):
        """One reward; one not on sale is 404 unknown_reward except to operators."""
        return service.get_reward(optional_user(), reward_id)

    @roles_required("operator")
    @blp.arguments(schemas.RewardPatchIn)
    @blp.response(200, schemas.RewardOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_reward`")
    def patch(self, changes, reward_id):
        """Change a reward (operators); new vouchers get the new cost and validity."""
        return service.update_reward(current_user(), reward_id, changes)

    @roles_required("operator")
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_reward`")
    def delete(self, _empty, reward_id):
        """Archive a reward (operators): no new redemptions; issued vouchers stay valid."""
        service.archive_reward(current_user(), reward_id)


@blp.route("/redemptions")
class Redemptions(MethodView):
    @roles_required("resident")
    @idempotency.idempotent
    @blp.arguments(schemas.RedemptionIn)
    @blp.response(201, schemas.RedemptionCreatedOut)
    @blp.alt_response(422, schema=ErrorSchema, description=idempotency.UNPROCESSABLE)
    @blp.alt_response(403, schema=ErrorSchema, description="`forbidden`: not a resident")
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_reward`: missing or archived")
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="`reward_unavailable` (outside its window, or its shop is not approved), "
        "`limit_reached`, `insufficient_points`, `out_of_stock`, or " + IDEMPOTENCY,
    )
    def post(self, data):
        """Spend points on a reward for a voucher (residents; honours Idempotency-Key)."""
        return redemptions.redeem_reward(current_user(), data["reward_id"], idempotency.current())


@blp.route("/me/redemptions")
class MyRedemptions(MethodView):
    @login_required
    @blp.arguments(schemas.RedemptionQuery, location="query")
    @blp.response(200, schemas.RedemptionOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, query, pagination_parameters):
        """The caller's vouchers, newest first, optionally of one status."""
        return paginate(
            redemptions.my_redemptions_query(current_user(), **query), pagination_parameters
        )


@blp.route("/redemptions/<int:redemption_id>")
class RedemptionById(MethodView):
    @login_required
    @blp.response(200, schemas.RedemptionOut)
    @blp.alt_response(
        404, schema=ErrorSchema, description="`unknown_voucher`: missing, or not the caller's "
        "(operators see every voucher)"
    )
    def get(self, redemption_id):
        """One voucher: its owner's or any to an operator; 404 unknown_voucher to anyone else."""
        return redemptions.get_redemption(current_user(), redemption_id)


@blp.route("/redemptions/<int:redemption_id>/qr.png")
class RedemptionQr(MethodView):
    @login_required
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="image/png",
        description="A QR that decodes to exactly voucher_code, e.g. `ABCDE-FGH23`",
        headers={"Cache-Control": {"description": "A bearer voucher: kept out of every cache",
                                   "schema": {"type": "string", "example": "private, no-store"}}},
    )
    @blp.alt_response(403, schema=ErrorSchema, description="`forbidden`: an operator")
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_voucher`: not yours")
    @blp.alt_response(409, schema=ErrorSchema, description="`already_fulfilled` (used) or "
                      "`voucher_not_valid` (cancelled or expired): no QR for the counter")
    def get(self, redemption_id):
        """The voucher as a QR image to show at the counter (its owner only, while usable)."""
        png = redemptions.voucher_qr(current_user(), redemption_id)
        # A bearer voucher: keep it out of shared caches.
        return Response(png, mimetype="image/png", headers={"Cache-Control": "private, no-store"})


@blp.route("/redemptions/<int:redemption_id>/cancel")
class RedemptionCancel(MethodView):
    @login_required
    @idempotency.idempotent
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(200, schemas.RedemptionOut)
    @blp.alt_response(422, schema=ErrorSchema, description=idempotency.UNPROCESSABLE)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_voucher`: not yours")
    @blp.alt_response(409, schema=ErrorSchema, description=SETTLED + ", or " + IDEMPOTENCY)
    def post(self, _empty, redemption_id):
        """Cancel an issued voucher (its owner or an operator): points and stock come back."""
        return redemptions.cancel_redemption(
            current_user(), redemption_id, idempotency.current()
        )


@blp.route("/vouchers/<string:voucher_code>/fulfil")
class VoucherFulfil(MethodView):
    @roles_required("shop_owner", "operator", limit_per_user="FULFIL_LIMIT_PER_USER")
    @blp.arguments(schemas.FulfilIn, required=False)
    @blp.response(200, schemas.RedemptionOut)
    @blp.alt_response(
        403, schema=ErrorSchema, description="`forbidden`: not a shop owner where it is valid; "
        "`shop_not_active`: the shop that would fulfil it (the reward's, the one named, or the "
        "owner's own) is pending or suspended"
    )
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_voucher`")
    @blp.alt_response(409, schema=ErrorSchema, description=SETTLED)
    @blp.alt_response(
        422, schema=ErrorSchema, description="`validation_error`: shop_id needed or unknown"
    )
    def post(self, data, voucher_code):
        """Hand over the reward: the voucher (code in any case, dash optional) is used once."""
        return redemptions.fulfil_voucher(current_user(), voucher_code, data.get("shop_id"))

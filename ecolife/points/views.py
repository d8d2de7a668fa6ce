"""/me/ledger: the caller's points history; /users/{id}/adjustments: operators' corrections."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, login_required, roles_required
from ecolife.errors import ErrorSchema
from ecolife.idempotency import service as idempotency
from ecolife.pagination import paginate
from ecolife.points import schemas, service

blp = Blueprint("points", __name__, description="The points ledger")


@blp.route("/me/ledger")
class MyLedger(MethodView):
    @login_required
    @blp.response(200, schemas.LedgerEntryOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, pagination_parameters):
        """The caller's ledger entries, newest first."""
        return paginate(service.ledger_query(current_user()), pagination_parameters)


@blp.route("/users/<int:user_id>/adjustments")
class Adjustments(MethodView):
    @roles_required("operator")
    @idempotency.idempotent
    @blp.arguments(schemas.AdjustmentIn)
    @blp.response(201, schemas.LedgerEntryOut)
    @blp.alt_response(422, schema=ErrorSchema, description=idempotency.UNPROCESSABLE + (
        "; `validation_error` on `delta` also when it would take the balance or lifetime "
        f"points past {schemas.MAX_ADJUSTED_TOTAL:,}"))
    @blp.alt_response(403, schema=ErrorSchema,
                      description="`forbidden`: not an operator, or one's own account")
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_user`")
    @blp.alt_response(409, schema=ErrorSchema,
                      description="`insufficient_points` (the balance would go below zero) or "
                                  "`idempotency_conflict`")
    def post(self, data, user_id):
        """Add or take points with a reason (operators); audited.

        A resident's correction also counts on the leaderboards of the period it is made in
        (a duplicate credit taken back leaves them), in the village they belong to then.
        """
        return service.adjust_points(
            current_user(), user_id, data["delta"], data["reason"], idempotency.current()
        )

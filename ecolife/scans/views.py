"""/scans: a resident scans a shop's code and is credited; /me/scans: their history."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, current_user_id, roles_required
from ecolife.errors import RETRY_AFTER, ErrorSchema
from ecolife.idempotency import service as idempotency
from ecolife.scans import schemas, service

blp = Blueprint("scans", __name__, description="Scanning and points")

REFUSALS = {
    403: "`forbidden` (not a resident), `shop_not_active` (shop pending or suspended), "
    "`too_far` (location sent, outside the shop's geofence), "
    "`action_not_active` (the earning rule is switched off)",
    404: "`unknown_code`: malformed, forged or unknown token or URL",
    409: "`idempotency_conflict`: a request with this Idempotency-Key is still running",
    410: "`code_revoked` (the shop withdrew the code), `code_expired` (rotating token past "
    "its window)",
    429: "`cooldown` (same code within the rule's cooldown) or `daily_limit` (today's "
    "limit for the action reached); `retry_after` in the body and the Retry-After header",
}

# ScanIn's cross-field rules (its @validates_schema), in the document: a body is required,
# with exactly one of token and url.
SCAN_BODY = {
    "description": "Exactly one of `token` and `url`; `latitude` and `longitude` together or "
    "not at all. Anything else (`{}` included) is a 422 `validation_error`.",
    "content": {
        "application/json": {
            "schema": {
                "allOf": [schemas.ScanIn],
                "oneOf": [{"required": ["token"]}, {"required": ["url"]}],
            }
        }
    },
}


@blp.route("/scans")
class Scans(MethodView):
    # The service locks the resident's row and checks the role there: one load, not two.
    @roles_required("resident", load_user=False)
    @idempotency.idempotent
    @blp.arguments(schemas.ScanIn)
    @blp.doc(requestBody=SCAN_BODY)
    @blp.response(201, schemas.ScanCreatedOut)
    @blp.alt_response(403, schema=ErrorSchema, description=REFUSALS[403])
    @blp.alt_response(404, schema=ErrorSchema, description=REFUSALS[404])
    @blp.alt_response(409, schema=ErrorSchema, description=REFUSALS[409])
    @blp.alt_response(410, schema=ErrorSchema, description=REFUSALS[410])
    @blp.alt_response(429, schema=ErrorSchema, description=REFUSALS[429], headers=RETRY_AFTER)
    @blp.alt_response(422, schema=ErrorSchema, description=idempotency.UNPROCESSABLE)
    def post(self, data):
        """Scan a shop's QR code (token or whole URL); credits the action's points once."""
        return service.record_scan(current_user_id(), data, idempotency.current())


@blp.route("/me/scans")
class MyScans(MethodView):
    @roles_required("resident")
    @blp.response(200, schemas.ScanOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, pagination_parameters):
        """The caller's scans, newest first."""
        return service.list_my_scans(current_user(), pagination_parameters)

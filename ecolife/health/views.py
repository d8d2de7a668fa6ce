"""Liveness and readiness, for load balancers and orchestrators."""
import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.errors import ErrorSchema
from ecolife.health import service

blp = Blueprint("health", __name__, description="Service health")


class NotReadyOut(ErrorSchema):
    """The 503 of /readyz: the one error shape plus which dependency failed."""

    checks = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True,
        metadata={"description": "Each dependency: `ok` or `error: <exception>`"},
    )


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, service.HealthOut)
    def get(self):
        """Liveness: 200 while the process runs."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, service.ReadyOut)
    @blp.alt_response(
        503, schema=NotReadyOut, description="`not_ready`: the database or Redis does not answer"
    )
    def get(self):
        """Readiness: 200 when the database and Redis answer, else 503 naming which failed."""
        return service.check_ready()


def register_root_routes(app):
    """/healthz and /readyz at the root too, where load balancers look for them."""
    app.add_url_rule("/healthz", "healthz", lambda: ({"status": "ok"}, 200))
    app.add_url_rule("/readyz", "readyz", service.check_ready)

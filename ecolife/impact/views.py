"""Impact of a resident, a shop and the programme; a community's participation stats."""
from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, login_required, optional_auth, optional_user
from ecolife.errors import ErrorSchema
from ecolife.impact import schemas, service, stats

blp = Blueprint("impact", __name__,
                description="Impact: what was avoided, and how communities take part")


@blp.route("/me/impact")
class MyImpact(MethodView):
    @login_required
    @blp.response(200, schemas.IMPACT_DOC)
    def get(self):
        """What the caller's scans avoided, by unit."""
        return jsonify(service.user_impact(current_user().id))


@blp.route("/impact")
class ProgrammeImpact(MethodView):
    @blp.response(200, schemas.IMPACT_DOC)
    def get(self):
        """What the whole programme avoided, by unit."""
        return jsonify(service.programme_impact())


@blp.route("/shops/<int:shop_id>/impact")
class ShopImpact(MethodView):
    @blp.response(200, schemas.IMPACT_DOC)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_shop` (or not visible)")
    @blp.doc(**optional_auth())
    def get(self, shop_id):
        """What scans at a shop avoided, by unit (shops the caller may see)."""
        return jsonify(service.shop_impact(optional_user(), shop_id))


@blp.route("/communities/<int:community_id>/stats")
class CommunityStats(MethodView):
    @blp.response(200, schemas.CommunityStatsOut)
    @blp.alt_response(404, schema=ErrorSchema, description="`unknown_community`")
    @blp.doc(description=schemas.STATS_RULES)
    def get(self, community_id):
        """A community's members, participation, points, impact and whether it is clean."""
        return stats.community_stats(community_id)

"""Impact payloads."""
import marshmallow as ma

from ecolife.communities.models import KINDS

STATS_RULES = (
    "Rolled up from the villages below. `members`: residents whose village is this community "
    "or below it; `active_members`: those with a credited scan in the last `active_days` (30) "
    "local days; `participation_rate` = active_members / members. `clean`: a community without "
    "children (a village) is clean when it has members and its participation_rate reaches "
    "`clean_threshold` (CLEAN_COMMUNITY_THRESHOLD); a community with children is clean when "
    "every child is clean: a tambon when all its villages are, a district when all its tambons "
    "are, the province when all its districts are. `points`: lifetime points of the current "
    "members. `impact`: what scans avoided, each scan counted for the village its resident "
    "belonged to when scanning."
)
# Totals by unit have open-ended keys (an action's impact_unit), which a marshmallow schema
# cannot describe: these views return JSON themselves and document the shape here.
IMPACT_DOC = {
    "type": "object",
    "description": "Totals by impact unit; units without any scan are left out.",
    "additionalProperties": {"type": "integer", "minimum": 0},
    "example": {"plastic_bag": 42, "foam_box": 3},
}


def _impact_field():
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                          metadata={"example": {"plastic_bag": 42, "foam_box": 3}})


class CommunityStatsOut(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    members = ma.fields.Integer(required=True, metadata={
        "description": "Residents whose village is this community or below it"})
    active_members = ma.fields.Integer(required=True, metadata={
        "description": "Members with a credited scan in the last `active_days` local days"})
    participation_rate = ma.fields.Float(required=True, metadata={
        "description": "active_members / members (0 without members)"})
    points = ma.fields.Integer(required=True, metadata={
        "description": "Lifetime points of the members"})
    impact = _impact_field()
    clean = ma.fields.Boolean(required=True, metadata={
        "description": "Without children: participation_rate >= clean_threshold; "
                       "with children: every child is clean"})
    clean_threshold = ma.fields.Float(required=True)
    children_count = ma.fields.Integer(required=True)
    children_clean = ma.fields.Integer(required=True)
    active_days = ma.fields.Integer(required=True)

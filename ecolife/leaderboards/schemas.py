"""Leaderboard payloads."""
import marshmallow as ma
from marshmallow import validate

from ecolife.communities.models import KINDS
from ecolife.fields import ID
from ecolife.leaderboards.boards import PERIODS

PERIOD_HELP = "week (Monday 00:00) or month, in ECOLIFE_TIMEZONE, or all time; default week"


class BoardQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    period = ma.fields.String(load_default="week", validate=validate.OneOf(PERIODS),
                              metadata={"description": PERIOD_HELP})
    community_id = ma.fields.Integer(load_default=None, validate=ID, metadata={
        "description": "A community of any kind: its members (villages below included); "
                       "omitted: everyone"})
    limit = ma.fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class BoardEntryOut(ma.Schema):
    rank = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True, allow_none=True)
    points = ma.fields.Integer(required=True, metadata={
        "description": "Earned in the period: scans, and operators' corrections made in it "
                       "(a resident they take to 0 or below is not shown)"})


class BoardMeOut(ma.Schema):
    rank = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "null: nothing above 0 earned in the period on this board"})
    points = ma.fields.Integer(required=True)


class BoardOut(ma.Schema):
    period = ma.fields.String(required=True)
    period_id = ma.fields.String(required=True, metadata={
        "description": "Which period: 2026-W49, 2026-12 or all", "example": "2026-W49"})
    community_id = ma.fields.Integer(required=True, allow_none=True)
    entries = ma.fields.List(ma.fields.Nested(BoardEntryOut), required=True, metadata={
        "description": "Best first; equal points: whoever reached them first ranks higher"})
    me = ma.fields.Nested(BoardMeOut, required=True)


class CommunityBoardQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    period = ma.fields.String(load_default="week", validate=validate.OneOf(PERIODS),
                              metadata={"description": PERIOD_HELP})
    kind = ma.fields.String(load_default="village", validate=validate.OneOf(KINDS))


class CommunityRankOut(ma.Schema):
    rank = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(KINDS)})
    points = ma.fields.Integer(required=True, metadata={
        "description": "What its residents show on its board in the period: points earned "
                       "while members, operators' corrections included, above 0"})
    members = ma.fields.Integer(required=True, metadata={
        "description": "Residents whose village is in this community now"})
    points_per_member = ma.fields.Float(required=True, metadata={
        "description": "points / members, 2 decimals (0 without members); the ranking key, "
                       "then points, then id"})

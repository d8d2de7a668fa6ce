"""Shops: registered by an owner (pending), approved or suspended by an operator.

Who sees what: everyone sees approved shops; an owner also sees their own in every status;
operators see all. A shop someone may not see is a 404, never a 403, so its existence does
not leak; the same goes for managing another owner's shop.
"""
import math

from sqlalchemy import case, or_, select, true

from ecolife.audit.service import apply_changes, locked, record as audit
from ecolife.communities.models import Community
from ecolife.errors import Invalid, NotFound, Unauthorized
from ecolife.extensions import db
from ecolife.pagination import paginate
from ecolife.shops.models import Shop

EARTH_RADIUS_M = 6_371_008.8


class UnknownShop(NotFound):
    error, message = "unknown_shop", "No such shop."


def _visible(user):
    if user is None:
        return Shop.status == "approved"
    if user.role == "operator":
        return true()
    return or_(Shop.status == "approved", Shop.owner_id == user.id)


def get_shop(user, shop_id):
    """A shop ``user`` (None: anonymous) may see."""
    shop = db.session.scalar(select(Shop).where(Shop.id == shop_id, _visible(user)))
    if shop is None:
        raise UnknownShop()
    return shop


def managed_shop(user, shop_id):
    """A shop ``user`` may manage: their own, or any for an operator."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or (user.role != "operator" and shop.owner_id != user.id):
        raise UnknownShop()
    return shop


def list_shops(user, filters, pagination_parameters):
    """One page of the shops ``user`` may see; nearest first when a point is given."""
    query = select(Shop).where(_visible(user))
    if filters.get("mine"):
        if user is None:
            raise Unauthorized("mine=true needs a bearer access token.")
        query = query.where(Shop.owner_id == user.id)
    if filters.get("category"):
        query = query.where(Shop.category == filters["category"])
    if filters.get("status"):
        query = query.where(Shop.status == filters["status"])
    point = filters.get("point")
    if point is None:
        return paginate(query.order_by(Shop.id), pagination_parameters)
    located = Shop.latitude.is_not(None) & Shop.longitude.is_not(None)
    query = query.order_by(case((located, 0), else_=1), _distance_order(*point), Shop.id)
    shops = paginate(query, pagination_parameters)
    for shop in shops:
        # Not a column: rides along on the instance for ShopOut to dump.
        shop.distance_m = (
            round(distance_m(point, (shop.latitude, shop.longitude)))
            if shop.latitude is not None and shop.longitude is not None else None
        )
    return shops


def _distance_order(lat, lng):
    """A SQL expression that sorts like the distance from (lat, lng).

    The equirectangular approximation, squared: with the cosine taken once here it is plain
    arithmetic that the database evaluates in the query, so it sorts and pages. Within a province it orders like the great-circle distance;
    it ignores the 180th meridian.
    """
    scale = math.cos(math.radians(lat))
    d_lat = Shop.latitude - lat
    d_lng = (Shop.longitude - lng) * scale
    return d_lat * d_lat + d_lng * d_lng


def distance_m(a, b):
    """Great-circle (haversine) distance in metres between two (lat, lng) points."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _check_details(shop):
    """Cross-field rules on the shop as it would be saved (after a partial change too)."""
    if (shop.latitude is None) != (shop.longitude is None):
        field = "longitude" if shop.longitude is None else "latitude"
        raise Invalid(field, "latitude and longitude go together.")
    if shop.geofence_m is not None and shop.latitude is None:
        raise Invalid("geofence_m", "A geofence needs the shop's latitude and longitude.")
    if shop.community_id is not None and db.session.get(Community, shop.community_id) is None:
        raise Invalid("community_id", "No such community.")


def register_shop(owner, data):
    """A shop owner registers a shop; it waits, pending, for an operator."""
    shop = Shop(owner_id=owner.id, status="pending", **data)
    _check_details(shop)
    db.session.add(shop)
    db.session.commit()
    return shop


def update_shop(user, shop_id, changes):
    """The owner or an operator changes a shop's details (never its status)."""
    shop = locked(managed_shop(user, shop_id))
    # No autoflush: the community lookup must not flush a half-checked change.
    with db.session.no_autoflush:
        if not apply_changes(user, "shop.update", shop, changes):
            return shop  # nothing to write, nothing to log
        _check_details(shop)
    db.session.commit()
    return shop


def set_shop_status(operator, shop_id, status, reason=None):
    """An operator approves or suspends a shop; a decision that changes nothing is not logged."""
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise UnknownShop()
    if locked(shop).status != status:
        previous, shop.status = shop.status, status
        audit(operator, f"shop.{'approve' if status == 'approved' else 'suspend'}", shop,
              {"from": previous, "to": status, "reason": reason})
        db.session.commit()
    return shop

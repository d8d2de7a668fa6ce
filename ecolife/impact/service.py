"""Impact: what scans avoided, by unit, for a user, a shop, a community or the programme."""
import functools

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from ecolife.extensions import db, execute_core
from ecolife.impact.models import ImpactTotal
from ecolife.scans.models import Scan
from ecolife.shops.service import get_shop


def add_scan_impact(community_id, unit, amount):
    """Add one scan's impact to its village's running total, in the scan's transaction."""
    if amount <= 0:
        return
    statement = _upsert(community_id is None)
    execute_core(statement, {"community_id": community_id, "unit": unit, "amount": amount})


@functools.cache
def _upsert(no_community):
    # Built once per target: constructing an upsert costs more than running it.
    # On the table, not the mapped class: a Core statement skips the ORM's per-execution work.
    totals = ImpactTotal.__table__
    upsert = insert(totals).values(
        community_id=bindparam("community_id"), impact_unit=bindparam("unit"),
        amount=bindparam("amount"),
    )
    if no_community:
        target = {"index_elements": [totals.c.impact_unit],
                  "index_where": totals.c.community_id.is_(None)}
    else:
        target = {"index_elements": [totals.c.community_id, totals.c.impact_unit]}
    # An upsert: the first scan of a unit in a village races no one into a duplicate row.
    return upsert.on_conflict_do_update(
        **target, set_={"amount": totals.c.amount + upsert.excluded.amount}
    )


def _by_unit(rows):
    return {unit: int(amount) for unit, amount in rows if amount}


def user_impact(user_id):
    """A user's totals by unit, from their scans (ix_scans_user_created)."""
    return _by_unit(db.session.execute(
        select(Scan.impact_unit, func.sum(Scan.impact_amount))
        .where(Scan.user_id == user_id)
        .group_by(Scan.impact_unit)
        .order_by(Scan.impact_unit)
    ))


def shop_impact(viewer, shop_id):
    """Totals by unit of the scans at a shop ``viewer`` may see (ix_scans_shop_created)."""
    shop = get_shop(viewer, shop_id)
    return _by_unit(db.session.execute(
        select(Scan.impact_unit, func.sum(Scan.impact_amount))
        .where(Scan.shop_id == shop.id)
        .group_by(Scan.impact_unit)
        .order_by(Scan.impact_unit)
    ))


def programme_impact():
    """The whole programme's totals by unit: a few hundred running totals, not every scan."""
    return _by_unit(db.session.execute(
        select(ImpactTotal.impact_unit, func.sum(ImpactTotal.amount))
        .group_by(ImpactTotal.impact_unit)
        .order_by(ImpactTotal.impact_unit)
    ))


def impact_by_community(community_ids):
    """{community_id: {unit: amount}} of the running totals of these communities."""
    totals = {}
    for community_id, unit, amount in db.session.execute(
        select(ImpactTotal.community_id, ImpactTotal.impact_unit, ImpactTotal.amount)
        .where(ImpactTotal.community_id.in_(community_ids))
    ):
        totals.setdefault(community_id, {})[unit] = int(amount)
    return totals

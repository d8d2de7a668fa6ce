"""Reference data (idempotent) and the demo that ``make run`` serves."""
from flask import current_app
from sqlalchemy import select

from ecolife.actions.models import Action
from ecolife.badges.models import Badge
from ecolife.defaults import action_rows, badge_rows
from ecolife.extensions import db


def ensure_defaults():
    """Insert the default actions and badges that are missing; leave edited ones alone."""
    for model, rows in ((Action, action_rows()), (Badge, badge_rows())):
        present = set(db.session.scalars(select(model.slug)))
        db.session.add_all(model(**row) for row in rows if row["slug"] not in present)
    db.session.commit()


# Lamphun's award-winning villages (Lamphun best-practice report) and the places above them.
DEMO_COMMUNITIES = (
    # (name, kind, parent name)
    ("ลำพูน Lamphun", "province", None),
    ("เมืองลำพูน Mueang Lamphun", "district", "ลำพูน Lamphun"),
    ("ป่าซาง Pa Sang", "district", "ลำพูน Lamphun"),
    ("อุโมงค์ Umong", "tambon", "เมืองลำพูน Mueang Lamphun"),
    ("ป่าสัก Pa Sak", "tambon", "เมืองลำพูน Mueang Lamphun"),
    ("แม่แรง Mae Raeng", "tambon", "ป่าซาง Pa Sang"),
    ("บ้านป่าเส้า หมู่ 9 Ban Pa Sao (Moo 9)", "village", "อุโมงค์ Umong"),
    ("บ้านน้ำพุ หมู่ 7 Ban Nam Phu (Moo 7)", "village", "ป่าสัก Pa Sak"),
    ("บ้านป่าบุก หมู่ 10 Ban Pa Buk (Moo 10)", "village", "แม่แรง Mae Raeng"),
)
DEMO_PASSWORD = "ecolife-demo"


class DemoRefused(Exception):
    """The demo was asked for where ECOLIFE_ENV is production."""


def seed_demo():
    """A small Lamphun demo: communities, an operator and a resident (idempotent).

    Never in production: its accounts, an operator among them, have the password the README
    publishes.
    """
    from ecolife.auth.service import create_user
    from ecolife.communities.models import Community
    from ecolife.users.models import User

    if current_app.config["ECOLIFE_ENV"] == "production":
        raise DemoRefused(
            "seed-demo refused: ECOLIFE_ENV is production, and the demo accounts (an operator "
            "among them) have the published password; use create-operator instead"
        )

    ensure_defaults()
    by_name = {c.name: c for c in db.session.scalars(select(Community))}
    for name, kind, parent in DEMO_COMMUNITIES:
        if name not in by_name:
            community = Community(name=name, kind=kind, parent_id=by_name[parent].id if parent else None)
            db.session.add(community)
            db.session.flush()
            by_name[name] = community
    village = by_name[DEMO_COMMUNITIES[6][0]]
    accounts = (
        ("operator@ecolife.example", "Lamphun operator", "operator", None),
        ("resident@ecolife.example", "นภา ใจดี", "resident", village.id),
        ("shop@ecolife.example", "ร้านกาแฟป่าซาง", "shop_owner", None),
    )
    users = {}
    for email, name, role, community_id in accounts:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email=email, password=DEMO_PASSWORD, display_name=name,
                               role=role, community_id=community_id)
            db.session.flush()
        users[role] = user
    _seed_demo_shops(users["shop_owner"], by_name)
    _seed_demo_rewards()
    db.session.commit()
    _seed_demo_history(users["resident"])
    return users


DEMO_SHOPS = (
    # (name, address, category, latitude, longitude, community, static-code actions, rotating)
    ("ร้านกาแฟป่าซาง Pa Sang Coffee", "อ.ป่าซาง จ.ลำพูน", "cafe",
     18.5263, 98.9397, "ป่าซาง Pa Sang", ("own_cup", "no_straw"), "own_cup"),
    ("ตลาดสดหนองดอก Nong Dok Market", "ต.ในเมือง อ.เมืองลำพูน จ.ลำพูน", "market",
     18.5797, 99.0099, "เมืองลำพูน Mueang Lamphun", ("no_plastic_bag", "no_foam"),
     "no_plastic_bag"),
    ("ร้านข้าวซอยป้าศรี บ้านป่าเส้า", "หมู่ 9 ต.อุโมงค์ อ.เมืองลำพูน จ.ลำพูน", "restaurant",
     18.6160, 99.0330, "บ้านป่าเส้า หมู่ 9 Ban Pa Sao (Moo 9)", ("no_foam", "no_straw"), "no_foam"),
    ("จุดเติมน้ำดื่มบ้านน้ำพุ", "หมู่ 7 ต.ป่าสัก อ.เมืองลำพูน จ.ลำพูน", "refill_station",
     18.5935, 99.0560, "บ้านน้ำพุ หมู่ 7 Ban Nam Phu (Moo 7)", ("refill", "no_plastic_bag"),
     "refill"),
)


# The shop whose sticker `make run` prints for a newcomer to open in a browser: no geofence,
# so it collects from wherever the newcomer sits (the other demo shops keep theirs).
DEMO_STICKER_SHOP = DEMO_SHOPS[0][0]


def demo_sticker_url():
    """The address inside the demo cafe's first sticker (None if it is gone)."""
    from ecolife.codes.models import QrCode
    from ecolife.codes.service import code_url
    from ecolife.shops.models import Shop

    code = db.session.scalar(
        select(QrCode).join(Shop).where(Shop.name == DEMO_STICKER_SHOP, Shop.status == "approved",
                                        QrCode.mode == "static", QrCode.revoked_at.is_(None))
        .order_by(QrCode.id).limit(1))
    return code_url(code) if code is not None else None


def _seed_demo_shops(owner, communities):
    """Approved Lamphun shops of the demo owner, each with two static codes and a rotating one.

    A shop that already exists is left as it is (with whatever codes it has now).
    """
    from ecolife.codes.keys import signing_kid
    from ecolife.codes.models import QrCode
    from ecolife.codes.tokens import new_code_secret
    from ecolife.shops.models import Shop

    actions = {a.slug: a for a in db.session.scalars(select(Action))}
    present = set(db.session.scalars(select(Shop.name).where(Shop.owner_id == owner.id)))
    for name, address, category, lat, lng, community, static_actions, rotating in DEMO_SHOPS:
        if name in present:
            continue
        shop = Shop(owner_id=owner.id, name=name, address=address, category=category,
                    latitude=lat, longitude=lng, status="approved",
                    geofence_m=None if name == DEMO_STICKER_SHOP else 150,
                    community_id=communities[community].id)
        db.session.add(shop)
        db.session.flush()
        for slug in static_actions:
            db.session.add(QrCode(shop_id=shop.id, action_id=actions[slug].id, mode="static",
                                  kid=signing_kid(), created_by=owner.id))
        db.session.add(QrCode(shop_id=shop.id, action_id=actions[rotating].id,
                              mode="rotating", secret=new_code_secret(), created_by=owner.id))


DEMO_REWARDS = (
    # (name, description, cost_points, stock (None: unlimited), per_user_limit, shop name)
    ("แก้วน้ำรักษ์โลก (Eco tumbler)", "แก้วเก็บความเย็นใช้ซ้ำได้ A reusable insulated tumbler.",
     200, 20, 1, None),
    ("ถุงผ้า (Cloth bag)", "ถุงผ้าลายผ้าทอลำพูน A cloth bag in Lamphun weave.", 80, 50, 2, None),
    ("ส่วนลด 10 บาท (10 baht off)", "ส่วนลด 10 บาทเมื่อนำแก้วมาเอง 10 baht off with your own cup.",
     30, None, None, "ร้านกาแฟป่าซาง Pa Sang Coffee"),
)


def _seed_demo_rewards():
    """A few rewards; one is redeemed at the demo cafe when it exists, else at any shop."""
    from ecolife.rewards.models import Reward
    from ecolife.shops.models import Shop

    present = set(db.session.scalars(select(Reward.name)))
    for name, description, cost, stock, limit, shop_name in DEMO_REWARDS:
        if name in present:
            continue
        shop_id = None
        if shop_name is not None:  # None when the shops are not seeded: any shop then
            shop_id = db.session.scalar(select(Shop.id).where(Shop.name == shop_name))
        db.session.add(Reward(name=name, description=description, cost_points=cost, stock=stock,
                              stock_left=stock, per_user_limit=limit, shop_id=shop_id))


DEMO_HISTORY_DAYS = 6


def _seed_demo_history(resident):
    """A week of the demo resident's scans, through the scan service itself: a balance that
    buys the cheapest reward at once, a ledger, badges, a streak still alive (the last scan
    was yesterday) and their village on the boards. Only for a resident with no scans yet.

    At the demo shops' live static codes; a scan the rules refuse (a code revoked or a shop
    suspended since, in a demo database someone has used) is skipped, never a failed start.
    """
    from datetime import datetime, time, timedelta

    from ecolife.codes.models import QrCode
    from ecolife.codes.service import current_token
    from ecolife.errors import DomainError
    from ecolife.scans.models import Scan
    from ecolife.scans.service import record_scan
    from ecolife.shops.models import Shop
    from ecolife.timeutil import local_day, local_tz, utcnow

    if db.session.scalar(select(Scan.id).where(Scan.user_id == resident.id).limit(1)):
        return
    codes = db.session.scalars(
        select(QrCode).join(Shop).join(Action)
        .where(Shop.name.in_([shop[0] for shop in DEMO_SHOPS]), Shop.status == "approved",
               QrCode.mode == "static", QrCode.revoked_at.is_(None), Action.active.is_(True))
        .order_by(QrCode.id)).all()
    today, tz = local_day(utcnow()), local_tz()
    for days_ago in range(DEMO_HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        for n in range(2 if codes else 0):  # a morning and an afternoon scan, two codes
            code = codes[(2 * days_ago + n) % len(codes)]
            at = datetime.combine(day, time(9 + 6 * n), tzinfo=tz)
            try:
                record_scan(resident.id, {"token": current_token(code, at)}, now=at)
            except DomainError:
                db.session.rollback()

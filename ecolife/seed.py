"""Reference data (idempotent) and the demo that ``make run`` serves."""
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


def seed_demo():
    """A small Lamphun demo: communities, an operator and a resident (idempotent)."""
    from ecolife.auth.service import create_user
    from ecolife.communities.models import Community
    from ecolife.users.models import User

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
    db.session.commit()
    return users

"""`make run`'s demo: approved Lamphun shops with printable codes, seeded idempotently."""
from sqlalchemy import func, select

from ecolife.codes import service as codes
from ecolife.codes.models import QrCode
from ecolife.extensions import db
from ecolife.seed import DEMO_SHOPS, seed_demo
from ecolife.shops.models import Shop
from tests.factories import auth


def test_demo_shops_are_approved_in_lamphun_with_working_codes(client):
    owner = seed_demo()["shop_owner"]
    shops = db.session.scalars(select(Shop).order_by(Shop.id)).all()
    assert [s.name for s in shops] == [row[0] for row in DEMO_SHOPS]
    for shop in shops:
        assert shop.owner_id == owner.id and shop.status == "approved"
        assert 18.4 < shop.latitude < 18.7 and 98.9 < shop.longitude < 99.1  # Lamphun
        assert shop.community_id is not None
        shop_codes = db.session.scalars(select(QrCode).where(QrCode.shop_id == shop.id)).all()
        assert sorted(c.mode for c in shop_codes) == ["rotating", "static", "static"]
        for code in shop_codes:
            assert codes.resolve_token(codes.current_token(code)).id == code.id
    static = db.session.scalar(select(QrCode).where(QrCode.mode == "static"))
    poster = client.get(f"/api/v1/shops/{static.shop_id}/codes/{static.id}/poster",
                        headers=auth(owner))
    assert poster.status_code == 200 and "ร้านกาแฟป่าซาง" in poster.get_data(as_text=True)


def test_seeding_twice_adds_nothing():
    seed_demo()
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Shop, QrCode)]
    seed_demo()
    assert [db.session.scalar(select(func.count()).select_from(m))
            for m in (Shop, QrCode)] == counts == [len(DEMO_SHOPS), 3 * len(DEMO_SHOPS)]


def test_the_demo_resident_has_a_week_of_scans_and_can_redeem_at_once(client):
    from ecolife.points.verification import verify
    from ecolife.scans.models import Scan
    from ecolife.seed import DEMO_HISTORY_DAYS

    resident = seed_demo()["resident"]
    me = client.get("/api/v1/me", headers=auth(resident)).get_json()
    assert me["streak"]["current"] == DEMO_HISTORY_DAYS
    cheapest = min(client.get("/api/v1/rewards").get_json(), key=lambda r: r["cost_points"])
    assert me["balance"] == 51 >= cheapest["cost_points"]  # the README quotes both figures
    assert client.get("/api/v1/me/badges", headers=auth(resident)).get_json()
    scans = db.session.scalar(select(func.count()).select_from(Scan))
    seed_demo()
    assert db.session.scalar(select(func.count()).select_from(Scan)) == scans == 12
    assert verify() == []


def test_the_history_uses_only_live_codes_and_never_stops_a_start(monkeypatch):
    # A demo database from before the history, used since: a code revoked, a shop suspended.
    from ecolife import seed
    from ecolife.points.verification import verify
    from ecolife.scans.models import Scan
    from ecolife.timeutil import utcnow

    monkeypatch.setattr(seed, "_seed_demo_history", lambda resident: None)
    seed_demo()
    monkeypatch.undo()
    first, second = db.session.scalars(select(Shop).order_by(Shop.id).limit(2)).all()
    for code in db.session.scalars(select(QrCode).where(QrCode.shop_id == first.id)):
        code.revoked_at = utcnow()
    second.status = "suspended"
    db.session.commit()
    resident = seed_demo()["resident"]
    shops = set(db.session.scalars(select(Scan.shop_id).where(Scan.user_id == resident.id)))
    assert shops and not shops & {first.id, second.id}
    assert verify() == []

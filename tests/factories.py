"""Small factories for test data, and an authenticated-request helper."""
import itertools

from ecolife.actions.models import Action
from ecolife.auth.passwords import hash_password
from ecolife.auth.tokens import issue_access_token
from ecolife.codes.keys import signing_kid
from ecolife.codes.models import QrCode
from ecolife.codes.tokens import new_code_secret
from ecolife.communities.models import Community
from ecolife.extensions import db
from ecolife.shops.models import Shop
from ecolife.users.models import User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(role="resident", **fields):
    n = next(_seq)
    fields.setdefault("email", f"{role}{n}@example.org")
    fields.setdefault("display_name", f"{role.title()} {n}")
    user = User(role=role, password_hash=hash_password(fields.pop("password", PASSWORD)), **fields)
    db.session.add(user)
    db.session.commit()
    return user


def make_community(name, kind, parent=None):
    community = Community(name=name, kind=kind, parent_id=parent.id if parent else None)
    db.session.add(community)
    db.session.commit()
    return community


def make_village():
    """A full chain province > district > tambon > village; returns the village."""
    province = make_community("ลำพูน Lamphun", "province")
    district = make_community("เมืองลำพูน Mueang Lamphun", "district", province)
    tambon = make_community("อุโมงค์ Umong", "tambon", district)
    return make_community("บ้านป่าเส้า Ban Pa Sao", "village", tambon)


def make_shop(owner=None, status="approved", **fields):
    """A shop (approved unless told); creates a shop_owner when ``owner`` is None."""
    owner = owner or make_user("shop_owner")
    fields.setdefault("name", f"ร้านทดสอบ Test shop {next(_seq)}")
    shop = Shop(owner_id=owner.id, status=status, **fields)
    db.session.add(shop)
    db.session.commit()
    return shop


def make_code(shop, action_slug="no_plastic_bag", mode="static"):
    """An active QR code of ``shop`` for the action ``action_slug``; returns the QrCode."""
    action = db.session.scalar(db.select(Action).where(Action.slug == action_slug))
    code = QrCode(shop_id=shop.id, action_id=action.id, mode=mode, created_by=shop.owner_id)
    if mode == "static":
        code.kid = signing_kid()
    else:
        code.secret = new_code_secret()
    db.session.add(code)
    db.session.commit()
    return code


def token(user):
    return issue_access_token(user)[0]


def auth(user, **headers):
    """Headers for a request as ``user`` (None: anonymous)."""
    if user is not None:
        headers["Authorization"] = f"Bearer {token(user)}"
    return headers


def assert_error(response, status, error):
    """The response is the contract's JSON error with this status and code."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert body["code"] == status and body["error"] == error, body
    assert isinstance(body["message"], str) and body["status"]
    return body

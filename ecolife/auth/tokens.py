"""Access tokens (JWT, HS256 pinned, 15 minutes) and opaque refresh tokens.

An access token is a JWT with ``typ: access``; a refresh token is 256 random bits that
only its SHA-256 hash in the database can match. Neither can stand in for the other.
"""
import hashlib
import secrets
from datetime import timedelta

import jwt
from flask import current_app

from ecolife.errors import InvalidToken
from ecolife.keyring import keyring
from ecolife.timeutil import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "typ"]


def signing_keys():
    """{kid: key}; the first signs. Derived from SECRET_KEY unless JWT_KEYS is set."""
    return keyring("JWT_KEYS", b"ecolife-jwt-v1", "k0")


def issue_access_token(user):
    """A signed access token for ``user``, and its lifetime in seconds."""
    config = current_app.config
    lifetime = config["ACCESS_TOKEN_MINUTES"] * 60
    now = utcnow()
    claims = {
        "iss": config["JWT_ISSUER"],
        "aud": config["JWT_AUDIENCE"],
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "typ": "access",
        "role": user.role,
    }
    kid, key = next(iter(signing_keys().items()))
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}), lifetime


def decode_access_token(token: str) -> int:
    """The user id of a valid access token; InvalidToken for anything else."""
    return decode_access_claims(token)[0]


def decode_access_claims(token: str) -> tuple[int, str | None]:
    """(user id, role claim or None) of a valid access token; InvalidToken for anything else.

    The role claim is what the user's role was at issue; roles_required(load_user=False)
    uses it to refuse early, and the user's row decides.
    """
    config = current_app.config
    keys = signing_keys()
    try:
        if len(keys) == 1:
            # One key (no rotation under way): verify with it at once and check the kid
            # after, so the token is parsed once, not twice.
            [(kid, key)] = keys.items()
        else:
            kid = jwt.get_unverified_header(token).get("kid")
            key = keys.get(kid)
            if key is None:
                raise InvalidToken()
        decoded = jwt.decode_complete(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=config["JWT_AUDIENCE"],
            issuer=config["JWT_ISSUER"],
            options={"require": REQUIRED_CLAIMS},
        )
        claims = decoded["payload"]
        if decoded["header"].get("kid") != kid or claims["typ"] != "access":
            raise InvalidToken()
        role = claims.get("role")
        return int(claims["sub"]), role if isinstance(role, str) else None
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidToken() from exc


def new_refresh_token():
    """A fresh opaque refresh token and the hash we store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

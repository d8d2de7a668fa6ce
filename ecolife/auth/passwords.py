"""Password hashing with argon2id (argon2-cffi), at the parameters config sets."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


@lru_cache(maxsize=4)
def _hasher_for(time_cost, memory_kib):
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
    # Verified against when the login is unknown, so timing does not reveal accounts.
    return hasher, hasher.hash("not-a-real-password")


def _hasher():
    config = current_app.config
    return _hasher_for(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"])


def hash_password(password: str) -> str:
    """An argon2id hash with its own salt and parameters."""
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches ``password_hash``; None (no such account) is False."""
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with parameters other than today's."""
    return _hasher()[0].check_needs_rehash(password_hash)

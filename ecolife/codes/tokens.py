"""The tokens inside a shop's QR code (``{PUBLIC_BASE_URL}/s/{token}``): signing and checking.

Every token is 18 bytes, written as 24 characters of base64url without padding. A fixed length
keeps every sticker the same size and leaves exactly one spelling per token (24 characters hold
18 bytes with no spare bits), so nothing about a token can be changed without breaking its MAC.

Static (printed stickers), signed with an application key named by its kid::

    0x01 | kid (1 byte) | code id (6 bytes, big-endian) | HMAC-SHA256(key, first 8 bytes)[:10]

A kid is a decimal string "0" to "255" (one byte in the token). Rotating keys means adding a
new kid and signing with it; stickers signed with an old kid verify while it stays configured.
An 80-bit MAC is out of reach of guessing for as long as a sticker hangs on a wall.

Rotating (shop tablet screens), signed with the code's own secret, TOTP-like::

    0x02 | code id (6 bytes) | counter (4 bytes) | HMAC-SHA256(secret, first 11 bytes)[:7]

The counter is the 30-second step of the unix time. A token is accepted while the current step
is within one of its own, so it stops working at the start of step counter + 2. Its MAC is
56 bits to keep 24 characters: a guess can only be tried online and is worthless 90 s later.

The leading byte names both the layout and the kind, and it is covered by the MAC, so a static
token never verifies as a rotating one or the other way round.
"""
import base64
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass, field

STEP_SECONDS = 30
# One step of clock skew either way between the screen's clock and ours.
SKEW_STEPS = 1
MAX_URL_LENGTH = 2048

_STATIC_V1 = 0x01
_ROTATING_V1 = 0x02
_CODE_ID_BYTES = 6
_COUNTER_BYTES = 4
_STATIC_MAC_BYTES = 10
_ROTATING_MAC_BYTES = 7
_KID_BYTE = {str(n): n for n in range(256)}  # only the canonical spelling: no "01", "+1"
# 24 base64url characters, exactly 18 bytes. Checked before decoding because base64 decoders
# quietly skip or accept what this refuses (whitespace, padding, the other alphabet).
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{24}")


class InvalidToken(Exception):
    """The token is malformed, forged, or of the wrong kind."""


class TokenExpired(Exception):
    """A genuine rotating token whose time window has passed."""


@dataclass(frozen=True)
class ParsedToken:
    """A token taken apart; not yet verified."""

    kind: str  # "static" or "rotating"
    code_id: int
    kid: str | None
    counter: int | None
    signed: bytes = field(repr=False)  # the bytes the MAC covers
    mac: bytes = field(repr=False)


def new_code_secret() -> bytes:
    """A fresh secret for a rotating code (160 bits, as RFC 4226 recommends for HOTP)."""
    return secrets.token_bytes(20)


def counter_at(ts: float) -> int:
    """The 30-second time step that unix time ``ts`` falls in."""
    return math.floor(ts / STEP_SECONDS)


def expires_at(counter: int) -> float:
    """The unix time at which a rotating token for ``counter`` stops being accepted."""
    return float((counter + SKEW_STEPS + 1) * STEP_SECONDS)


def sign_static(code_id: int, key: bytes, kid: str) -> str:
    """The token for a printed code, signed with the application key ``kid``."""
    if kid not in _KID_BYTE:
        raise ValueError(f"kid must be a decimal string from '0' to '255', not {kid!r}")
    signed = bytes([_STATIC_V1, _KID_BYTE[kid]]) + _code_id_bytes(code_id)
    return _encode(signed + _mac(key, signed, _STATIC_MAC_BYTES))


def sign_rotating(code_id: int, secret: bytes, counter: int) -> str:
    """The token a code's screen shows during time step ``counter``."""
    if not 0 <= counter < 1 << (8 * _COUNTER_BYTES):
        raise ValueError(f"counter out of range: {counter}")
    signed = bytes([_ROTATING_V1]) + _code_id_bytes(code_id) + counter.to_bytes(_COUNTER_BYTES)
    return _encode(signed + _mac(secret, signed, _ROTATING_MAC_BYTES))


def parse(token: str) -> ParsedToken:
    """Take a token apart without verifying it; InvalidToken for anything malformed."""
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise InvalidToken("malformed token")
    raw = base64.urlsafe_b64decode(token)  # cannot fail: the pattern admits only valid input
    id_end = 2 + _CODE_ID_BYTES
    if raw[0] == _STATIC_V1:
        return ParsedToken(
            kind="static",
            code_id=int.from_bytes(raw[2:id_end]),
            kid=str(raw[1]),
            counter=None,
            signed=raw[:id_end],
            mac=raw[id_end:],
        )
    if raw[0] == _ROTATING_V1:
        counter_end = 1 + _CODE_ID_BYTES + _COUNTER_BYTES
        return ParsedToken(
            kind="rotating",
            code_id=int.from_bytes(raw[1 : 1 + _CODE_ID_BYTES]),
            kid=None,
            counter=int.from_bytes(raw[1 + _CODE_ID_BYTES : counter_end]),
            signed=raw[:counter_end],
            mac=raw[counter_end:],
        )
    raise InvalidToken("unknown token version")


def verify_static(parsed: ParsedToken, keys: dict[str, bytes]) -> None:
    """Check a static token's MAC against the configured key its kid names."""
    if parsed.kind != "static":
        raise InvalidToken("not a static token")
    key = keys.get(parsed.kid)
    if key is None:
        raise InvalidToken("unknown key id")
    if not hmac.compare_digest(_mac(key, parsed.signed, _STATIC_MAC_BYTES), parsed.mac):
        raise InvalidToken("bad signature")


def verify_rotating(parsed: ParsedToken, secret: bytes, now: float) -> None:
    """Check a rotating token's MAC, then its time window; TokenExpired once it has passed."""
    if parsed.kind != "rotating":
        raise InvalidToken("not a rotating token")
    # MAC first: only a genuine token may learn that it is merely expired.
    if not hmac.compare_digest(_mac(secret, parsed.signed, _ROTATING_MAC_BYTES), parsed.mac):
        raise InvalidToken("bad signature")
    current = counter_at(now)
    if parsed.counter > current + SKEW_STEPS:
        raise InvalidToken("token from the future")
    if parsed.counter < current - SKEW_STEPS:
        raise TokenExpired("token expired")


def token_from_url(text: str, public_base_url: str) -> str:
    """The token in what a camera read: exactly ``{public_base_url}/s/{token}``, optional ``/``."""
    if not isinstance(text, str) or len(text) > MAX_URL_LENGTH:
        raise InvalidToken("not an EcoLife code")
    _, sep, base_rest = public_base_url.rstrip("/").partition("://")
    if not sep:
        raise ValueError(f"public_base_url must be absolute: {public_base_url!r}")
    # Plain string matching, not urllib: urlsplit silently drops tabs and newlines.
    scheme, sep, rest = text.strip().partition("://")
    prefix = base_rest + "/s/"
    # Stickers outlive a move between http and https, so either scheme; host and path exactly.
    if not sep or scheme.lower() not in ("http", "https") or not rest.startswith(prefix):
        raise InvalidToken("not an EcoLife code")
    token = rest[len(prefix) :].removesuffix("/")
    if not _TOKEN_RE.fullmatch(token):
        raise InvalidToken("not an EcoLife code")
    return token


def _code_id_bytes(code_id: int) -> bytes:
    if not 0 < code_id < 1 << (8 * _CODE_ID_BYTES):
        raise ValueError(f"code id out of range: {code_id}")
    return code_id.to_bytes(_CODE_ID_BYTES)


def _mac(key: bytes, message: bytes, size: int) -> bytes:
    return hmac.digest(key, message, hashlib.sha256)[:size]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")

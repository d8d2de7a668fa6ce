"""The application keys that sign static QR codes, by key id."""
import hashlib
import hmac

from flask import current_app


def qr_keys():
    """{kid: key}; the first signs new codes. Derived from SECRET_KEY unless QR_KEYS is set."""
    keys = current_app.config.get("QR_KEYS")
    if keys:
        return {kid: secret.encode() for kid, secret in keys.items()}
    secret = current_app.config["SECRET_KEY"].encode()
    # A key of its own for QR codes, so no other use of SECRET_KEY can sign a sticker.
    return {"0": hmac.new(secret, b"ecolife-qr-v1", hashlib.sha256).digest()}


def signing_kid():
    """The kid new static codes are signed with."""
    return next(iter(qr_keys()))

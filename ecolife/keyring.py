"""Signing keys by key id: configured for rotation, or derived from SECRET_KEY."""
import hashlib
import hmac

from flask import current_app


from config import DERIVED


def keyring(config_key, purpose, default_kid):
    """{kid: key} from ``config[config_key]`` (the first signs, all verify); when unset,
    one key derived from SECRET_KEY for ``purpose`` alone, so no other use of SECRET_KEY
    (a JWT, a QR sticker) can stand in for this one. A configured entry ``DERIVED`` is
    that same key, so moving to configured keys need not retire what it signed."""
    keys = current_app.config.get(config_key)
    if not keys:
        return {default_kid: _derived(purpose)}
    return {kid: _derived(purpose) if secret == DERIVED else secret.encode()
            for kid, secret in keys.items()}


def _derived(purpose):
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, purpose, hashlib.sha256).digest()

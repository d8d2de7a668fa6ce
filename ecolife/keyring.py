"""Signing keys by key id: configured for rotation, or derived from SECRET_KEY."""
import hashlib
import hmac

from flask import current_app


def keyring(config_key, purpose, default_kid):
    """{kid: key} from ``config[config_key]`` (the first signs, all verify); when unset,
    one key derived from SECRET_KEY for ``purpose`` alone, so no other use of SECRET_KEY
    (a JWT, a QR sticker) can stand in for this one."""
    keys = current_app.config.get(config_key)
    if keys:
        return {kid: secret.encode() for kid, secret in keys.items()}
    secret = current_app.config["SECRET_KEY"].encode()
    return {default_kid: hmac.new(secret, purpose, hashlib.sha256).digest()}

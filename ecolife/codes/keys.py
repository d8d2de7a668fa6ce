"""The application keys that sign static QR codes, by key id."""
from ecolife.keyring import keyring


def qr_keys():
    """{kid: key}; the first signs new codes. Derived from SECRET_KEY unless QR_KEYS is set."""
    return keyring("QR_KEYS", b"ecolife-qr-v1", "0")


def signing_kid():
    """The kid new static codes are signed with."""
    return next(iter(qr_keys()))

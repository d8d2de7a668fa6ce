"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""
from ecolife import create_app
from ecolife.embedded import EmbeddedUnavailable

try:
    app = create_app()
except EmbeddedUnavailable as exc:
    raise SystemExit(f"ecolife: {exc}") from None

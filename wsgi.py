"""The WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""
from ecolife import create_app

app = create_app()

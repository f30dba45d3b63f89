"""WSGI entry point: ``gunicorn wsgi:app`` and Zappa's ``app_function``."""

from webapp import create_app

app = create_app()

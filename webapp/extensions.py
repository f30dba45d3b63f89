"""Flask extensions, created unbound and initialised in the app factory."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

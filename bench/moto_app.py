"""moto's server as a WSGI app, for gunicorn's threaded worker: unlike the development server
it keeps connections alive, as AWS endpoints do, so benchmarks do not pay a TCP connect per call."""

from moto.server import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)

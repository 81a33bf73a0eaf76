"""The fleet app as uWSGI loads it (``--module tests.fleet.uwsgiapp:app``): uWSGI
takes a module's WSGI object, not an app factory to call."""

from tests.fleet.fleetapp import create_app

app = create_app()

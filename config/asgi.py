"""ASGI entry point: HTTP through Django (GraphQL, admin, health), websockets through Channels."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django.setup(set_prefix=False)
from config.tracing import configure_tracing  # noqa: E402

configure_tracing()  # when OTEL_TRACES_EXPORTER is set; before the middleware chain is built
django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from config.websockets import websocket_urlpatterns  # noqa: E402
from schema.transports.body_limit import BodyLimit  # noqa: E402

if settings.EVENTS_RELAY_IN_PROCESS:
    # Embedded default: this server process relays its own events (and any backlog) right away.
    from events.relay import start_in_process_relay

    start_in_process_relay()

if settings.JOBS_WORKER_IN_PROCESS:
    # Embedded default: this server process works the jobs it starts (and any backlog).
    from modules.jobs.worker import start_in_process_worker

    start_in_process_worker()

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_application),
        "websocket": URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]  # see config/websockets.py
    }
)

# What the process has loaded so far lives as long as it does. Frozen, it is out of the garbage
# collector's sight: a full collection then scans what requests made, not ~150,000 startup objects
# too (~80 ms each time, several times a second while large pages are served).
import schema.root  # noqa: E402,F401 (the schema, built now rather than on the first request)

gc.collect()
gc.freeze()

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.graphql_vs_rest.graphene_app.settings")

application = get_asgi_application()

import bench.graphql_vs_rest.graphene_app.schema  # noqa: E402,F401

# As config/asgi.py does: startup objects out of the garbage collector's sight.
gc.collect()
gc.freeze()

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.graphql_vs_rest.graphene_app.settings")

application = get_asgi_application()

"""The project's settings (same database, same signing key), with the apps graphene needs."""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "graphene_django",
    "events",
    "modules.user",
    "modules.jobs",
    "modules.distribution",
    "modules.shipping",
]
# The project's middleware, and the same query counter first.
MIDDLEWARE = ["bench.graphql_vs_rest.counting.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.graphql_vs_rest.graphene_app.urls"
ASGI_APPLICATION = "bench.graphql_vs_rest.graphene_app.asgi.application"
GRAPHENE = {
    "SCHEMA": "bench.graphql_vs_rest.graphene_app.schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": 100,
}

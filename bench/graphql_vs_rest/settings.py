"""The project's settings plus the bench-only pieces: REST views, DRF and the query counter."""

import warnings

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MIDDLEWARE

# No collectstatic for the bench: WhiteNoise's "No directory at .../staticfiles" says nothing here.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework"]
# Outermost, so the count covers authentication and everything the view does.
MIDDLEWARE = ["bench.graphql_vs_rest.counting.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.graphql_vs_rest.urls"

REST_FRAMEWORK = {
    # Authentication is the project's (modules.auth.api.authenticate), as for GraphQL.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}

# Read (b) reads ~5,000 items in one request, far above the public cost limit and any client's
# budget (schema/guard/): the bench measures reads, so it lifts both, and refills the budget at
# once, so every answer's `extensions.cost` is the same (the variants' bodies are compared byte
# for byte). The guard still computes every operation's cost, as in production.
GRAPHQL_MAX_COST = 10**9
GRAPHQL_COST_BUCKET_SIZE = 10**9
GRAPHQL_COST_RESTORE_RATE = float(10**9)

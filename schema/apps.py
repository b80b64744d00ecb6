from django.apps import AppConfig


class SchemaConfig(AppConfig):
    """The gateway as a Django app, for its management commands (no models)."""

    name = "schema"
    label = "gateway"
    verbose_name = "GraphQL gateway"

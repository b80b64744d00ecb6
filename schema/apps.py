from django.apps import AppConfig


class SchemaConfig(AppConfig):
    """The gateway as a Django app: management commands, signal receivers, the module checks."""

    name = "schema"
    label = "gateway"
    verbose_name = "GraphQL gateway"

    def ready(self) -> None:
        from schema import checks
        from schema.access import connect_receivers

        connect_receivers()
        checks.register()

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the heartbeat's housekeeping, the system's status, the live event stream."""

    name = "modules.ops"
    label = "ops"
    verbose_name = "Operations"

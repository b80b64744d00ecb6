from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "modules.distribution"
    label = "distribution"
    verbose_name = "Distribution"

    def ready(self) -> None:
        # Note the transports shipping announces: the only movements the module will record.
        from modules.distribution import listeners

        listeners.register()

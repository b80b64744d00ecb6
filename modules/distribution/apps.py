from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "modules.distribution"
    label = "distribution"
    verbose_name = "Distribution"

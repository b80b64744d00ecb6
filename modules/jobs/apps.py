from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "modules.jobs"
    label = "jobs"
    verbose_name = "Bulk jobs"

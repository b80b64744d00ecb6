from django.apps import AppConfig


class UserConfig(AppConfig):
    name = "modules.user"
    label = "user"
    verbose_name = "Users"

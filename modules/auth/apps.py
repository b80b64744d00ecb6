from django.apps import AppConfig


class AuthConfig(AppConfig):
    name = "modules.auth"
    label = "majestic_auth"
    verbose_name = "Authentication"

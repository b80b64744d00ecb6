from django.apps import AppConfig


class TrustedDocumentsConfig(AppConfig):
    """Registered documents (models, migrations) and `manage.py trusted_documents`."""

    name = "schema.trusted_documents"
    label = "trusted_documents"
    verbose_name = "Trusted documents"

from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "modules.shipping"
    label = "shipping"
    verbose_name = "Shipping"

    def ready(self) -> None:
        from modules.shipping.services import register_job_kinds

        register_job_kinds()  # its bulk operations, run by the jobs module's workers

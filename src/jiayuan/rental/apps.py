from django.apps import AppConfig


class RentalConfig(AppConfig):
    name = "jiayuan.rental"
    label = "rental"
    verbose_name = "Rental housing"

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jiayuan.web"
    label = "web"

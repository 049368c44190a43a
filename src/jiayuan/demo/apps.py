from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "jiayuan.demo"
    label = "demo"

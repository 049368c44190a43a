from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "jiayuan.web"
    label = "web"

    def ready(self) -> None:
        from jiayuan.web.home import register_builtin_tiles

        register_builtin_tiles()

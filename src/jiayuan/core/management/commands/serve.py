"""``jiayuan serve [--host 127.0.0.1] [--port 8000] [--threads 8]``: the web process (waitress)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the platform with waitress (WSGI)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, host: str, port: int, threads: int, **options: Any) -> None:
        import waitress

        from jiayuan.config.wsgi import application
        from jiayuan.core.uploads import web_limits

        # A request body larger than the biggest upload allowed (plus room for the form's
        # other fields) is cut off by waitress itself with a 413, before Django reads it.
        max_body = web_limits().max_bytes + 4 * 1024 * 1024
        self.stdout.write(f"家园 serving on http://{host}:{port}/ ({threads} threads)")
        self.stdout.flush()
        waitress.serve(application, host=host, port=port, threads=threads, ident="jiayuan",
                       max_request_body_size=max_body)

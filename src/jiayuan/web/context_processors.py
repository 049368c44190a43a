from typing import Any

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "DISTRICT_NAME": settings.JIAYUAN.get("DISTRICT_NAME", ""),
    }

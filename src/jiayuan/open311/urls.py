"""GeoReport v2 under /open311/v2/; discovery at /open311/discovery.{json,xml}."""

from django.urls import URLPattern, re_path

from jiayuan.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)"

urlpatterns: list[URLPattern] = [
    re_path(rf"^discovery{FMT}$", views.discovery, name="discovery"),
    re_path(rf"^v2/services{FMT}$", views.services, name="services"),
    re_path(rf"^v2/services/(?P<code>[^/]+?){FMT}$", views.service_definition,
            name="service-definition"),
    re_path(rf"^v2/requests{FMT}$", views.requests_, name="requests"),
    re_path(rf"^v2/requests/(?P<number>[^/]+?){FMT}$", views.request_detail, name="request"),
    # The published swagger spells the single-request path "request/…": accept both.
    re_path(rf"^v2/request/(?P<number>[^/]+?){FMT}$", views.request_detail),
    re_path(rf"^v2/tokens/(?P<token>[^/]+?){FMT}$", views.token, name="token"),
    re_path(r"^v2/.*?(\.(?P<fmt>json|xml))?$", views.unknown),
]

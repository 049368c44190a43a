from django.urls import path

from jiayuan.cases import views, views_calendar

app_name = "cases"

urlpatterns = [
    path("h/<str:token>/report/", views.report, name="report"),
    path("t/<str:token>/", views.track, name="track"),
    path("t/<str:token>/photos/<int:pk>/", views.track_photo, name="track_photo"),
    path("t/<str:token>/<slug:what>/", views.track_action, name="track_action"),
    path("cases/", views.case_list, name="list"),
    path("cases/bulk/", views.bulk, name="bulk"),
    path("cases/map/", views.live_map, name="map"),
    path("cases/calendar/", views_calendar.calendar_page, name="calendar"),
    path("cases/map/cases.geojson", views.map_geojson, name="map_geojson"),
    path("cases/<str:number>/", views.case_detail, name="detail"),
    path("cases/<str:number>/act/", views.case_action, name="act"),
    path("cases/<str:number>/topic/", views.raise_topic, name="raise_topic"),
    path("cases/<str:number>/reporter/", views.reveal_reporter, name="reveal_reporter"),
    path("cases/<str:number>/photos/<int:pk>/", views.case_photo, name="photo"),
    path("notifications/", views.notifications, name="notifications"),
]

from django.urls import path

from jiayuan.council import views

app_name = "council"

urlpatterns = [
    path("councils/", views.index, name="index"),
    path("councils/<int:pk>/", views.council_page, name="council"),
    path("councils/<int:pk>/topics/new/", views.topic_new, name="topic_new"),
    path("councils/<int:pk>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("councils/<int:pk>/consultations/new/", views.consultation_new,
         name="consultation_new"),
    path("councils/<int:pk>/projects/new/", views.project_new, name="project_new"),
    path("councils/<int:pk>/resources/", views.resource_list, name="resources"),
    path("councils/<int:pk>/resources/new/", views.resource_new, name="resource_new"),
    path("councils/<int:pk>/needs/", views.need_list, name="needs"),
    path("councils/<int:pk>/needs/new/", views.need_new, name="need_new"),
    path("councils/needs/<int:pk>/", views.need_page, name="need"),
    path("councils/needs/<int:pk>/match/", views.need_match, name="need_match"),
    path("councils/<int:pk>/owners/", views.owner_register, name="owners"),
    path("councils/<int:pk>/owners/<slug:what>/", views.owner_register_action,
         name="owners_action"),
    path("councils/topics/<int:pk>/", views.topic_page, name="topic"),
    path("councils/comments/<int:pk>/photo/", views.comment_photo, name="comment_photo"),
    path("councils/topics/<int:pk>/<slug:what>/", views.topic_action, name="topic_action"),
    path("councils/meetings/<int:pk>/", views.meeting_page, name="meeting"),
    path("councils/meetings/<int:pk>/qr.svg", views.meeting_qr, name="meeting_qr"),
    path("councils/meetings/<int:pk>/<slug:what>/", views.meeting_action, name="meeting_action"),
    path("councils/checkin/<str:token>/", views.checkin, name="checkin"),
    path("councils/consultations/<int:pk>/", views.consultation_page, name="consultation"),
    path("councils/consultations/<int:pk>/<slug:what>/", views.consultation_action,
         name="consultation_action"),
    path("councils/projects/<int:pk>/", views.project_page, name="project"),
    path("councils/projects/<int:pk>/<slug:what>/", views.project_action, name="project_action"),
    path("p/projects/<int:pk>/", views.project_public, name="project_public"),
    path("h/<str:token>/topic/", views.resident_topic, name="resident_topic"),
    path("h/<str:token>/owner/", views.owner_claim, name="owner_claim"),
]

from django.urls import path

from jiayuan.care import views

app_name = "care"

urlpatterns = [
    path("care/", views.register_list, name="list"),
    path("care/new/", views.register_new, name="new"),
    path("care/visits/", views.my_visits, name="my_visits"),
    path("care/tasks/", views.task_queue, name="tasks"),
    path("care/tasks/<int:pk>/", views.task_action, name="task_action"),
    path("care/<int:pk>/", views.person, name="person"),
    path("care/<int:pk>/edit/", views.person_edit, name="edit"),
    path("care/<int:pk>/reveal/", views.reveal, name="reveal"),
    path("care/<int:pk>/visit/", views.visit, name="visit"),
]

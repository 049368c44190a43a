from django.urls import path

app_name = "index"
urlpatterns: list = []

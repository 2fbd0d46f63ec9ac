from django.urls import path

from apps.widget import views

urlpatterns = [
    path("config", views.config, name="widget-config"),
]

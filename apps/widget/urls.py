from django.urls import path

from apps.widget import views

urlpatterns = [
    path("config", views.config, name="widget-config"),
    path("conversations", views.conversation_create, name="widget-conversations"),
    path("messages", views.message_create, name="widget-messages"),
    path("history", views.history, name="widget-history"),
    path("updates", views.updates, name="widget-updates"),
    path("seen", views.seen, name="widget-seen"),
    path("leads", views.lead_capture, name="widget-leads"),
]

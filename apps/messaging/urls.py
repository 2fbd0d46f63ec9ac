from django.urls import path

from apps.messaging import views

urlpatterns = [
    path("", views.messaging_home, name="messaging"),
    path("settings/", views.settings_save, name="messaging-settings"),
    path("templates/", views.template_add, name="messaging-template-add"),
    path("templates/<int:template_id>/remove/", views.template_remove, name="messaging-template-remove"),
    path("contacts/", views.contacts, name="messaging-contacts"),
]

# Under /campaigns/ (their own navigation entry).
campaign_urlpatterns = [
    path("", views.campaigns, name="campaigns"),
    path("new/", views.campaign_add, name="campaign-add"),
    path("<int:campaign_id>/", views.campaign, name="campaign"),
    path("<int:campaign_id>/<str:action>/", views.campaign_action, name="campaign-action"),
]

from django.urls import path

from apps.integrations import views

urlpatterns = [
    path("", views.integrations, name="integrations"),
    path("email/test/", views.email_test, name="integrations-email-test"),
    path("<str:kind>/<str:provider>/", views.account_save, name="integrations-save"),
    path("<str:kind>/<str:provider>/remove/", views.account_remove, name="integrations-remove"),
]

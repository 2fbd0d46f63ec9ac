from django.urls import path

from apps.events import views

urlpatterns = [
    path("", views.developers, name="developers"),
    path("endpoints/new/", views.endpoint_create, name="developers-endpoint-create"),
    path("endpoints/<int:endpoint_id>/", views.endpoint_detail, name="developers-endpoint"),
    path("endpoints/<int:endpoint_id>/edit/", views.endpoint_update, name="developers-endpoint-update"),
    path("endpoints/<int:endpoint_id>/rotate/", views.endpoint_rotate, name="developers-endpoint-rotate"),
    path("endpoints/<int:endpoint_id>/enabled/", views.endpoint_enabled, name="developers-endpoint-enabled"),
    path("endpoints/<int:endpoint_id>/test/", views.endpoint_test, name="developers-endpoint-test"),
    path("endpoints/<int:endpoint_id>/delete/", views.endpoint_delete, name="developers-endpoint-delete"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="developers-delivery"),
    path("deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="developers-delivery-replay"),
    path("recover/", views.deliveries_recover, name="developers-recover"),
]

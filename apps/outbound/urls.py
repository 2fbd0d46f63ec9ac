from django.urls import path

from apps.outbound import views

urlpatterns = [
    path("", views.outbound, name="outbound"),
    path("call/", views.call_request, name="outbound-call"),
    path("<int:call_id>/cancel/", views.call_cancel, name="outbound-cancel"),
    path("dnc/", views.dnc_add, name="outbound-dnc-add"),
    path("dnc/remove/", views.dnc_remove, name="outbound-dnc-remove"),
    path("hours/", views.policy_update, name="outbound-policy"),
]

"""The platform host: agency admin, sign-in, REST API, widget API."""

from django.contrib import admin
from django.urls import include, path

from apps.dashboard import views as dashboard_views
from apps.messaging import webhooks as messaging_webhooks

urlpatterns = [
    path("", dashboard_views.platform_home, name="platform-home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("apps.api.urls")),
    path("widget/v1/", include("apps.widget.urls")),
    path("telephony/twilio/outbound/", include("apps.outbound.urls_twilio")),
    # Stripe's webhooks (dj-stripe: /stripe/webhook/<uuid>/, the public schema; apps/billing/webhooks.py)
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("telephony/twilio/messages/", include("apps.messaging.urls_twilio")),
    path("email/inbound/<str:slug>/", messaging_webhooks.email_inbound, name="email-inbound"),
    path("telephony/twilio/", include("apps.telephony.urls")),
]

handler404 = "apps.dashboard.views.not_found"
handler500 = "apps.dashboard.views.server_error"

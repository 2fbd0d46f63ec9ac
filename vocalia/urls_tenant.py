"""A client's own host: the dashboard."""

from django.urls import include, path

from apps.bookings import views as booking_views
from apps.conversations import views as conversation_views
from apps.crm import views as crm_views
from apps.dashboard import views
from apps.messaging import urls as messaging_urls
from apps.messaging import views as messaging_views
from apps.widget import dashboard as widget_dashboard

urlpatterns = [
    path("", views.home, name="home"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team-invite"),
    path("team/<int:membership_id>/role/", views.team_role, name="team-role"),
    path("team/<int:membership_id>/remove/", views.team_remove, name="team-remove"),
    path("team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("keys/", views.keys, name="keys"),
    path("keys/<int:key_id>/reveal/", views.key_reveal, name="key-reveal"),
    path("keys/<int:key_id>/revoke/", views.key_revoke, name="key-revoke"),
    path("keys/rotate/<str:kind>/", views.key_rotate, name="key-rotate"),
    path("settings/", views.client_settings, name="settings"),
    path("developers/", include("apps.events.urls")),
    path("agents/", include("apps.agents.urls")),
    path("knowledge/", include("apps.knowledge.urls")),
    path("conversations/", conversation_views.conversations_list, name="conversations"),
    path("conversations/<int:conversation_id>/", conversation_views.conversation_detail, name="conversation"),
    path("inbox/", conversation_views.inbox, name="inbox"),
    path("inbox/<int:conversation_id>/", conversation_views.inbox, name="inbox-conversation"),
    path("inbox/<int:conversation_id>/takeover/", conversation_views.inbox_takeover, name="inbox-takeover"),
    path("inbox/<int:conversation_id>/handback/", conversation_views.inbox_handback, name="inbox-handback"),
    path("inbox/<int:conversation_id>/reply/", conversation_views.inbox_reply, name="inbox-reply"),
    path("inbox/<int:conversation_id>/note/", conversation_views.inbox_note, name="inbox-note"),
    path("inbox/<int:conversation_id>/assign/", conversation_views.inbox_assign, name="inbox-assign"),
    path("inbox/<int:conversation_id>/status/", conversation_views.inbox_status, name="inbox-status"),
    path("calls/", include("apps.calls.urls")),
    path("leads/", crm_views.leads_list, name="leads"),
    path("tickets/", crm_views.tickets_list, name="tickets"),
    path("appointments/", booking_views.appointments, name="appointments"),
    path("outbound/", include("apps.outbound.urls")),
    path("outbox/", messaging_views.outbox, name="outbox"),
    path("messaging/", include("apps.messaging.urls")),
    path("campaigns/", include(messaging_urls.campaign_urlpatterns)),
    path("integrations/", include("apps.integrations.urls")),
    path("billing/", include("apps.billing.urls")),
    path("install/", widget_dashboard.install, name="install"),
    path("install/origins/", widget_dashboard.origins_update, name="install-origins"),
    path("install/appearance/", widget_dashboard.appearance_update, name="install-appearance"),
    path("install/preview/", widget_dashboard.preview, name="install-preview"),
    path("invite/<uuid:token>/", views.invitation_accept, name="invitation-accept"),
    path("staff-access/<str:token>/", views.staff_access, name="staff-access"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler404 = "apps.dashboard.views.not_found"
handler500 = "apps.dashboard.views.server_error"

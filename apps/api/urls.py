from django.urls import path

from apps.api.endpoints import agents, bookings, conversations, crm, knowledge, usage
from apps.api.views import DocsPage, MeApi, SchemaApi

urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
    path("schema", SchemaApi.as_view(), name="api-schema"),
    path("docs", DocsPage.as_view(), name="api-docs"),
    path("agents", agents.AgentListApi.as_view(), name="api-agents"),
    path("agents/<int:agent_id>", agents.AgentApi.as_view(), name="api-agent"),
    path("knowledge/documents", knowledge.DocumentListApi.as_view(), name="api-documents"),
    path("knowledge/documents/<int:document_id>", knowledge.DocumentApi.as_view(), name="api-document"),
    path("conversations", conversations.ConversationListApi.as_view(), name="api-conversations"),
    path("conversations/<int:conversation_id>", conversations.ConversationApi.as_view(), name="api-conversation"),
    path("conversations/<int:conversation_id>/messages", conversations.MessageListApi.as_view(),
         name="api-messages"),
    path("leads", crm.LeadListApi.as_view(), name="api-leads"),
    path("leads/<int:lead_id>", crm.LeadApi.as_view(), name="api-lead"),
    path("appointments", bookings.AppointmentListApi.as_view(), name="api-appointments"),
    path("appointments/<int:appointment_id>", bookings.AppointmentApi.as_view(), name="api-appointment"),
    path("appointments/<int:appointment_id>/move", bookings.AppointmentMoveApi.as_view(),
         name="api-appointment-move"),
    path("appointments/<int:appointment_id>/cancel", bookings.AppointmentCancelApi.as_view(),
         name="api-appointment-cancel"),
    path("tickets", crm.TicketListApi.as_view(), name="api-tickets"),
    path("tickets/<int:ticket_id>", crm.TicketApi.as_view(), name="api-ticket"),
    path("callbacks", crm.CallbackListApi.as_view(), name="api-callbacks"),
    path("callbacks/<int:callback_id>", crm.CallbackApi.as_view(), name="api-callback"),
    path("usage", usage.UsageApi.as_view(), name="api-usage"),
]

from django.urls import path

from apps.agents import views

urlpatterns = [
    path("", views.agents_list, name="agents"),
    path("new/", views.agent_new, name="agent-new"),
    path("new/review/", views.agent_review, name="agent-review"),
    path("<int:agent_id>/", views.agent_edit, name="agent-edit"),
    path("<int:agent_id>/chat/", views.agent_chat, name="agent-chat"),
    path("<int:agent_id>/sector/", views.agent_sector, name="agent-sector"),
]

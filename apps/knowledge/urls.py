from django.urls import path

from apps.knowledge import views

urlpatterns = [
    path("", views.knowledge_home, name="knowledge"),
    path("progress/", views.knowledge_progress, name="knowledge-progress"),
    path("<int:document_id>/delete/", views.document_delete, name="document-delete"),
    path("<int:document_id>/retry/", views.document_retry, name="document-retry"),
]

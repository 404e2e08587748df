"""Routes under /api/ (docs/api.md §4): the report API, its OpenAPI schema and a page reading it."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, views

urlpatterns = [
    path("reports/queues/", api.queue_report, name="api-reports-queues"),
    path("reports/agents/", api.agent_report, name="api-reports-agents"),
    path("wallboard/", api.wallboard, name="api-wallboard"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", views.api_docs, name="api-docs"),
]

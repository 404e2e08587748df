from django.urls import path

from . import views

app_name = "routing"
urlpatterns = [
    path("offers/<int:offer_id>/answer", views.offer_answer, name="offer-answer"),
    path("offers/<int:offer_id>/status", views.offer_status, name="offer-status"),
    path("bridges/<int:bridge_id>/join", views.bridge_join, name="bridge-join"),
    path("bridges/<int:bridge_id>/agent-done", views.bridge_agent_done, name="bridge-agent-done"),
    path(
        "transfers/<int:transfer_id>/agent-answer",
        views.transfer_agent_answer,
        name="transfer-agent-answer",
    ),
    path(
        "transfers/<int:transfer_id>/agent-status",
        views.transfer_agent_status,
        name="transfer-agent-status",
    ),
    path("transfers/<int:transfer_id>/caller", views.transfer_caller, name="transfer-caller"),
    path("bridges/<int:bridge_id>/hold-music", views.bridge_hold_music, name="bridge-hold-music"),
    path(
        "bridges/<int:bridge_id>/caller-done", views.bridge_caller_done, name="bridge-caller-done"
    ),
    path("callbacks/<int:callback_id>/answer", views.callback_answer, name="callback-answer"),
    path("callbacks/<int:callback_id>/status", views.callback_status, name="callback-status"),
    path(
        "callbacks/<int:callback_id>/conference-event",
        views.callback_conference_event,
        name="callback-conference-event",
    ),
    path(
        "callbacks/<int:callback_id>/agent-done",
        views.callback_agent_done,
        name="callback-agent-done",
    ),
    path(
        "callbacks/<int:callback_id>/customer-done",
        views.callback_customer_done,
        name="callback-customer-done",
    ),
    path(
        "monitorings/<int:monitoring_id>/status",
        views.monitoring_status,
        name="monitoring-status",
    ),
    path(
        "bridges/<int:bridge_id>/conference-event",
        views.bridge_conference_event,
        name="bridge-conference-event",
    ),
    path("recordings/status", views.recording_status, name="recording-status"),
    path("callbacks/not-reached", views.callback_not_reached, name="callback-not-reached"),
]

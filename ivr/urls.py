from django.urls import path

from . import views

app_name = "ivr"

_step = "flows/<int:flow_id>/steps/<int:step_id>"

urlpatterns = [
    path("flows/<int:flow_id>/start", views.flow_start, name="start"),
    path(_step, views.step, name="step"),
    path(f"{_step}/gather", views.gather, name="gather"),
    path(f"{_step}/no-input", views.no_input, name="no-input"),
    path(f"{_step}/queue-exit", views.queue_exit, name="queue-exit"),
    path(f"{_step}/voicemail", views.voicemail, name="voicemail"),
    path(f"{_step}/dial-action", views.dial_action, name="dial-action"),
]

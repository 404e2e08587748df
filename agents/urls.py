from django.urls import path

from . import views

app_name = "agents"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("token", views.token, name="token"),
    path("state", views.state, name="state"),
    path("status", views.set_status, name="set-status"),
    path("device", views.device, name="device"),
    path("call", views.current_call, name="current-call"),
    path("dial-check", views.dial_check, name="dial-check"),
    path("notes", views.note_new, name="note-new"),
    path("customers/", views.customers, name="customers"),
    path("customers/new", views.customer_new, name="customer-new"),
    path("customers/add/", views.customer_add, name="customer-add"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    # Twilio: the Dial action of softphone calls to a number or another agent.
    path("twilio/dial-action", views.agent_dial_action, name="dial-action"),
]

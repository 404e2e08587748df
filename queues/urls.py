from django.urls import path

from . import views

app_name = "queues"
urlpatterns = [
    path("<str:slug>/wait", views.wait, name="wait"),
    path("<str:slug>/exit", views.exit_action, name="exit"),
    path("<str:slug>/connect", views.connect, name="connect"),
    path("<str:slug>/callback-key", views.callback_key, name="callback-key"),
    path("<str:slug>/callback-number", views.callback_number, name="callback-number"),
    path("<str:slug>/dial-action", views.dial_action, name="dial-action"),
]

from django.urls import path

from . import views

app_name = "telephony"
urlpatterns = [
    path("voice/status", views.voice_status, name="voice-status"),
    path("voice/fallback", views.voice_fallback, name="voice-fallback"),
]

from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("agents/", views.agents, name="agents"),
    path("ivr/", views.ivr_funnel, name="ivr"),
    path("abandoned/", views.abandoned, name="abandoned"),
    path("calls/<str:sid>/", views.call_detail, name="call-detail"),
    path("calls/<str:sid>/recording", views.call_recording_audio, name="call-recording"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("wallboard/today/", views.wallboard_today, name="wallboard-today"),
]

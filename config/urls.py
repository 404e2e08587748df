from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog

from agents import views as agents_views
from ivr import views as ivr_views
from routing import views as routing_views

from . import views

admin.site.site_header = _("Tsunagu administration")
admin.site.site_title = _("Tsunagu")
admin.site.index_title = _("Call center settings")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", views.RoleLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    # Twilio webhooks (docs/api.md §1). The voice URL each number points at:
    path("twilio/voice/incoming", ivr_views.voice_incoming, name="twilio-voice-incoming"),
    path("twilio/agent/outgoing", agents_views.agent_outgoing, name="twilio-agent-outgoing"),
    path("twilio/", include("telephony.urls")),
    path("twilio/queues/", include("queues.urls")),
    path("twilio/ivr/", include("ivr.urls")),
    path("twilio/routing/", include("routing.urls")),
    # The desk asks routing which caller rings it (routing sits above agents).
    path("agent/offer", routing_views.desk_offer, name="agent-offer"),
    path("agent/call/hold", routing_views.desk_hold, name="agent-call-hold"),
    path("agent/call/resume", routing_views.desk_resume, name="agent-call-resume"),
    path("agent/call/recording", routing_views.desk_recording, name="agent-call-recording"),
    path(
        "agent/call/recording/<str:action>",
        routing_views.desk_recording_control,
        name="agent-call-recording-action",
    ),
    path(
        "recordings/<int:recording_id>/audio",
        routing_views.recording_audio,
        name="recording-audio",
    ),
    path(
        "recordings/<int:recording_id>/review",
        routing_views.recording_review,
        name="recording-review",
    ),
    path("agent/reviews/", routing_views.my_reviews, name="agent-reviews"),
    path("agent/call/transfer", routing_views.desk_transfer, name="agent-call-transfer"),
    path("agent/call/consult", routing_views.desk_consult, name="agent-call-consult"),
    path(
        "agent/call/consult/<str:action>",
        routing_views.desk_consult,
        name="agent-call-consult-action",
    ),
    path("agent/call/add-number", routing_views.desk_add_number, name="agent-call-add-number"),
    path("agent/call/drop", routing_views.desk_drop, name="agent-call-drop"),
    path("agent/call/parties", routing_views.desk_parties, name="agent-call-parties"),
    path("supervisor/team/", routing_views.team, name="supervisor-team"),
    path("supervisor/team/live", routing_views.team_live, name="supervisor-team-live"),
    path("supervisor/monitor/mode", routing_views.monitor_mode, name="supervisor-monitor-mode"),
    path("supervisor/monitor/leave", routing_views.monitor_leave, name="supervisor-monitor-leave"),
    path(
        "supervisor/monitor/<int:agent_id>",
        routing_views.monitor_start,
        name="supervisor-monitor-start",
    ),
    path("agent/", include("agents.urls")),
    path("reports/", include("reports.urls")),
    path("voicemails/", agents_views.voicemails, name="voicemails"),
    path(
        "voicemails/<int:pk>/assign",
        agents_views.voicemail_assign_view,
        name="voicemail-assign",
    ),
    path(
        "voicemails/<int:pk>/audio",
        agents_views.voicemail_audio_view,
        name="voicemail-audio",
    ),
    path(
        "voicemails/<int:pk>/handled",
        agents_views.voicemail_handled_view,
        name="voicemail-handled",
    ),
    # REST API (docs/api.md §4) and its OpenAPI schema.
    path("api/", include("reports.api_urls")),
]

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    INITIATED = "initiated", _("initiated")
    RINGING = "ringing", _("ringing")
    IN_PROGRESS = "in-progress", _("in progress")
    COMPLETED = "completed", _("completed")
    BUSY = "busy", _("busy")
    FAILED = "failed", _("failed")
    NO_ANSWER = "no-answer", _("no answer")
    CANCELED = "canceled", _("canceled")


# A call's status only ever moves forward along this ladder; every final status shares the top rung.
STATUS_RANK = {
    CallStatus.QUEUED: 0,
    CallStatus.INITIATED: 1,
    CallStatus.RINGING: 2,
    CallStatus.IN_PROGRESS: 3,
    CallStatus.COMPLETED: 4,
    CallStatus.BUSY: 4,
    CallStatus.FAILED: 4,
    CallStatus.NO_ANSWER: 4,
    CallStatus.CANCELED: 4,
}
FINAL_STATUSES = frozenset(status for status, rank in STATUS_RANK.items() if rank == 4)


class Call(models.Model):
    """One Twilio call leg, upserted by CallSid from every webhook that mentions it."""

    sid = models.CharField(_("call SID"), max_length=34, unique=True)
    parent_sid = models.CharField(_("parent call SID"), max_length=34, blank=True, db_index=True)
    account_sid = models.CharField(_("account SID"), max_length=34, blank=True)
    from_number = models.CharField(_("from"), max_length=128, blank=True)
    to_number = models.CharField(_("to"), max_length=128, blank=True)
    direction = models.CharField(_("direction"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CallStatus.choices, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=128, blank=True)
    forwarded_from = models.CharField(_("forwarded from"), max_length=128, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    recording_sid = models.CharField(_("recording SID"), max_length=34, blank=True)
    recording_url = models.URLField(_("recording URL"), max_length=500, blank=True)
    recording_duration_seconds = models.PositiveIntegerField(
        _("recording duration (s)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Set by routing when it puts an inbound leg (a caller) in a bridge, its conference: an
    # inbound leg without it was never in one, and its final status needs no bridge lookup
    # (docs/architecture.md §7). Legs routing places itself (outbound) are looked up always.
    bridged = models.BooleanField(_("put in a bridge"), default=False)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            # Admin and call search by caller number, newest first.
            models.Index(fields=["from_number", "-started_at"], name="call_from_started_idx"),
            # Admin list ordering over millions of legs.
            models.Index(fields=["-started_at"], name="call_started_idx"),
        ]

    def __str__(self):
        return self.sid

    @property
    def never_bridged(self) -> bool:
        """An inbound leg routing never put in a bridge: no bridge to end when it ends."""
        return self.direction == "inbound" and not self.bridged

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES


class CallStatusEvent(models.Model):
    """One status callback, kept once per (call, SequenceNumber) so duplicates change nothing."""

    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="status_events"
    )
    sequence_number = models.PositiveIntegerField(_("sequence number"))
    status = models.CharField(_("status"), max_length=16, choices=CallStatus.choices)
    timestamp = models.DateTimeField(_("timestamp"))
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("call status event")
        verbose_name_plural = _("call status events")
        constraints = [
            models.UniqueConstraint(
                fields=["call", "sequence_number"], name="callstatusevent_call_seq_uniq"
            )
        ]
        ordering = ["call", "sequence_number"]

    def __str__(self):
        return f"{self.call_id}#{self.sequence_number} {self.status}"


class WebhookEvent(models.Model):
    """Every request that reached a Twilio webhook, stored raw before anything else is trusted."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("processed")
        FAILED = "failed", _("failed")  # the handler raised; replayable
        INVALID = "invalid", _("invalid")  # signed, but fields missing or malformed (400)
        FORGED = "forged", _("forged")  # bad or missing signature (403)
        METHOD = "method", _("wrong method")  # not POST (405)

    received_at = models.DateTimeField(_("received"), db_index=True)
    path = models.CharField(_("path"), max_length=500)
    url = models.CharField(_("URL"), max_length=2000)
    method = models.CharField(_("method"), max_length=10)
    call_sid = models.CharField(_("call SID"), max_length=34, blank=True)
    fields = models.JSONField(_("fields"), default=dict)
    signature = models.CharField(_("signature"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    error = models.TextField(_("error"), blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            # Admin search and call detail timeline: every request about one CallSid, in order.
            models.Index(fields=["call_sid", "received_at"], name="webhook_call_received_idx"),
            # Admin filter "failed": the few events to look at and replay.
            models.Index(
                fields=["outcome", "-received_at"],
                name="webhook_outcome_received_idx",
            ),
        ]

    def __str__(self):
        return f"{self.method} {self.path} {self.call_sid}"


class ConfigVersion(models.Model):
    """One row: a token that changes whenever anything a webhook renders from is saved (flows,
    steps, numbers, schedules, queues and their messages). Every webhook reads it in the same
    statement as its call-leg upsert, so each process knows at no cost whether the
    configuration it keeps in memory is still current (telephony/configcache.py)."""

    token = models.CharField(_("token"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("configuration version")
        verbose_name_plural = _("configuration versions")

    def __str__(self):
        return self.token

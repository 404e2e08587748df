from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from telephony.models import Call

slug_validator = RegexValidator(
    r"^[A-Za-z0-9#_-]+$",
    _("Use only letters, digits, #, _ and - (Twilio's queue name rules)."),
)


class Queue(models.Model):
    """A Twilio queue callers wait in; its slug is the Twilio queue name."""

    slug = models.CharField(_("Twilio queue name"), max_length=64, unique=True,
                            validators=[slug_validator])
    name = models.CharField(_("name"), max_length=100)
    max_size = models.PositiveIntegerField(
        _("max size"), default=100, validators=[MinValueValidator(1), MaxValueValidator(5000)]
    )
    twilio_sid = models.CharField(_("Twilio SID"), max_length=34, blank=True)
    hold_music_url = models.URLField(_("hold music URL"), max_length=500, blank=True)
    announce_every_seconds = models.PositiveIntegerField(
        _("announce position every (s)"), default=30, validators=[MinValueValidator(5)]
    )
    max_wait_seconds = models.PositiveIntegerField(
        _("max wait (s)"), null=True, blank=True,
        help_text=_("After this wait the caller leaves the queue and the flow continues."),
    )
    service_level_seconds = models.PositiveIntegerField(_("service-level threshold (s)"),
                                                        default=20)
    short_abandon_seconds = models.PositiveIntegerField(_("short-abandon threshold (s)"),
                                                        default=5)
    record_answered_calls = models.BooleanField(_("record answered calls"), default=False)
    wrap_up_seconds = models.PositiveIntegerField(
        _("automatic wrap-up (s)"), default=0,
        help_text=_("Seconds an agent stays in wrap-up after a call from this queue; 0 = none."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self):
        return self.name


class QueueResult(models.TextChoices):
    """Twilio's QueueResult values, plus WAITING while no result is known yet."""

    WAITING = "waiting", _("waiting")
    BRIDGED = "bridged", _("bridged")
    BRIDGING = "bridging-in-process", _("bridging")
    HANGUP = "hangup", _("caller hung up")
    LEAVE = "leave", _("left (system)")
    REDIRECTED = "redirected", _("redirected")
    REDIRECTED_FROM_BRIDGED = "redirected-from-bridged", _("transferred after answer")
    QUEUE_FULL = "queue-full", _("queue full")
    ERROR = "error", _("error")
    SYSTEM_ERROR = "system-error", _("system error")


class QueueVisit(models.Model):
    """One caller's stay in one queue, dated by when it entered the queue."""

    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="visits")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="queue_visits")
    queue_sid = models.CharField(_("Twilio queue SID"), max_length=34, blank=True)
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=32, choices=QueueResult.choices,
                              default=QueueResult.WAITING)
    # Twilio's QueueTime when the visit stopped waiting (connect URL or Enqueue action).
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    agent_call_sid = models.CharField(_("agent leg SID"), max_length=34, blank=True)
    # The answering agent's client identity (the agent leg's From without "client:").
    agent_identity = models.CharField(_("agent identity"), max_length=128, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), null=True, blank=True)
    wrap_up_seconds = models.PositiveIntegerField(_("wrap-up (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("queue visit")
        verbose_name_plural = _("queue visits")
        indexes = [
            # Queue reports: visits of one queue in a date range, bucketed by entered_at.
            models.Index(fields=["queue", "entered_at"], name="visit_queue_entered_idx"),
            # Reports over all queues in a date range.
            models.Index(fields=["entered_at"], name="visit_entered_idx"),
            # Agent report: answered visits per agent in a range.
            models.Index(fields=["agent_identity", "entered_at"], name="visit_agent_entered_idx"),
        ]

    def __str__(self):
        return f"{self.call_id} in {self.queue_id} ({self.result})"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None or self.result == QueueResult.BRIDGED

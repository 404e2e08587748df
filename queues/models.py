from string import Formatter

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from telephony.models import Call

slug_validator = RegexValidator(
    r"^[A-Za-z0-9#_-]+$",
    _("Use only letters, digits, #, _ and - (Twilio's queue name rules)."),
)


class RoutingMode(models.TextChoices):
    PUSH = "push", _("push to agents")
    PULL = "pull", _("agents take callers")


class Queue(models.Model):
    """A Twilio queue callers wait in; its slug is the Twilio queue name."""

    slug = models.CharField(
        _("Twilio queue name"), max_length=64, unique=True, validators=[slug_validator]
    )
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
        _("max wait (s)"),
        null=True,
        blank=True,
        help_text=_("After this wait the caller leaves the queue and the flow continues."),
    )
    service_level_seconds = models.PositiveIntegerField(
        _("service-level threshold (s)"), default=20
    )
    short_abandon_seconds = models.PositiveIntegerField(_("short-abandon threshold (s)"), default=5)
    # The wallboard turns a queue red when today's service level falls below this target or the
    # longest caller now waiting has waited past the alert threshold.
    service_level_target = models.PositiveSmallIntegerField(
        _("service-level target (%)"),
        default=80,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Share of callers to answer within the threshold; below it the wallboard warns."
        ),
    )
    longest_wait_alert_seconds = models.PositiveIntegerField(
        _("longest-wait alert (s)"),
        default=120,
        help_text=_("The wallboard warns when a caller has waited longer than this."),
    )
    record_answered_calls = models.BooleanField(_("record answered calls"), default=False)
    announce_pause_seconds = models.PositiveSmallIntegerField(
        _("pause before the announcement (s)"),
        default=3,
        validators=[MaxValueValidator(60)],
    )
    announce_estimated_wait = models.BooleanField(
        _("announce the estimated wait"),
        default=False,
        help_text=_(
            "Estimated from this queue's recent answered waits; uses the message "
            "'position with estimated wait'."
        ),
    )
    # Set when Twilio confirmed the current slug and max size; null = not synced.
    twilio_synced_at = models.DateTimeField(_("synced with Twilio"), null=True, blank=True)
    wrap_up_seconds = models.PositiveIntegerField(
        _("automatic wrap-up (s)"),
        default=0,
        help_text=_("Seconds an agent stays in wrap-up after a call from this queue; 0 = none."),
    )
    # Push routing (the routing app): ring the longest-idle agent for the longest waiter.
    routing_mode = models.CharField(
        _("routing"),
        max_length=8,
        choices=RoutingMode.choices,
        default=RoutingMode.PUSH,
        help_text=_(
            "Push: callers ring the longest-idle available agent. Pull: agents take the next "
            "caller by hand (possible in both modes)."
        ),
    )
    priority = models.PositiveSmallIntegerField(
        _("queue priority"),
        default=0,
        validators=[MaxValueValidator(9)],
        help_text=_(
            "0–9. An agent who works several push queues is offered the callers of the "
            "higher-priority queue first."
        ),
    )
    ring_timeout_seconds = models.PositiveSmallIntegerField(
        _("ring timeout (s)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
        help_text=_("How long an agent's softphone rings before the next agent is tried."),
    )
    missed_ready_after_seconds = models.PositiveIntegerField(
        _("ready again after a missed call (s)"),
        null=True,
        blank=True,
        help_text=_(
            "An agent who let a call ring out is not offered calls until ready again: after "
            "this many seconds, or, when blank, once they press Ready."
        ),
    )
    # Callbacks (virtual hold): the caller may leave and be called back, keeping their place.
    callback_after_seconds = models.PositiveIntegerField(
        _("offer a callback after (s)"),
        null=True,
        blank=True,
        help_text=_(
            "Offer 'press 1 to be called back' once a caller waited this long; blank = off."
        ),
    )
    callback_estimated_wait_minutes = models.PositiveIntegerField(
        _("offer a callback when the estimated wait passes (min)"),
        null=True,
        blank=True,
        help_text=_(
            "Offer it from the caller's entry when the estimated wait is longer; blank = off."
        ),
    )
    callback_retry_seconds = models.PositiveIntegerField(
        _("callback retry delay (s)"),
        default=300,
        validators=[MinValueValidator(30)],
        help_text=_("After an unanswered callback, wait this long before calling again."),
    )
    callback_max_attempts = models.PositiveSmallIntegerField(
        _("callback attempts"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Calls to the customer before the callback is listed as failed."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_synced(self) -> bool:
        return bool(self.twilio_sid and self.twilio_synced_at)

    @property
    def offers_callbacks(self) -> bool:
        return (
            self.callback_after_seconds is not None
            or self.callback_estimated_wait_minutes is not None
        )


@deconstructible
class PlaceholderValidator:
    """Accept only str.format placeholders among ``allowed`` (so a typo fails in the admin)."""

    def __init__(self, *allowed: str):
        self.allowed = allowed

    def __call__(self, value: str) -> None:
        try:
            names = {name for _, name, _, _ in Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValidationError(
                _("Unbalanced braces: %(error)s"), params={"error": exc}
            ) from None
        unknown = names - set(self.allowed)
        if unknown:
            raise ValidationError(
                _("Unknown placeholder(s) %(unknown)s; allowed: %(allowed)s."),
                params={
                    "unknown": ", ".join(sorted(f"{{{n}}}" for n in unknown)),
                    "allowed": ", ".join(f"{{{n}}}" for n in self.allowed) or "-",
                },
            )

    def __eq__(self, other):
        return isinstance(other, PlaceholderValidator) and self.allowed == other.allowed


class QueueMessages(models.Model):
    """What the queue says to callers in one language; each language is spoken in turn."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="messages"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    language = models.CharField(
        _("language"),
        max_length=16,
        default="ja-JP",
        help_text=_("Twilio <Say> language, e.g. ja-JP or en-US."),
    )
    voice = models.CharField(
        _("voice"),
        max_length=64,
        blank=True,
        help_text=_("Twilio <Say> voice, e.g. Polly.Mizuki; blank = default."),
    )
    position_message = models.CharField(
        _("position announcement"),
        max_length=500,
        blank=True,
        validators=[PlaceholderValidator("position")],
        help_text=_("{position} is the caller's place in the queue (1 = next)."),
    )
    position_with_wait_message = models.CharField(
        _("position with estimated wait"),
        max_length=500,
        blank=True,
        validators=[PlaceholderValidator("position", "minutes")],
        help_text=_(
            "Used instead when the estimated wait is announced and known; "
            "{minutes} is the estimate."
        ),
    )
    connect_message = models.CharField(_("connect message"), max_length=500, blank=True)
    queue_full_message = models.CharField(_("queue-full message"), max_length=500, blank=True)
    recording_notice = models.CharField(
        _("recording notice"),
        max_length=500,
        blank=True,
        help_text=_("Spoken before connecting when answered calls are recorded."),
    )
    callback_offer_message = models.CharField(
        _("callback offer"),
        max_length=500,
        blank=True,
        help_text=_("Said while waiting once a callback may be offered; key 1 accepts."),
    )
    callback_number_message = models.CharField(
        _("callback number confirmation"),
        max_length=500,
        blank=True,
        validators=[PlaceholderValidator("number")],
        help_text=_("{number} is the caller's number; key 1 confirms, or another number and #."),
    )
    callback_invalid_message = models.CharField(
        _("callback number missing or invalid"),
        max_length=500,
        blank=True,
        help_text=_("Said when the caller's number is withheld or unusable: key a number and #."),
    )
    callback_confirmed_message = models.CharField(
        _("callback confirmed"),
        max_length=500,
        blank=True,
        validators=[PlaceholderValidator("number")],
        help_text=_("Said before the call ends; {number} is the number that will be called."),
    )

    class Meta:
        verbose_name = _("queue messages")
        verbose_name_plural = _("queue messages")
        ordering = ["queue", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "language"], name="queuemessages_queue_language_uniq"
            ),
        ]

    def __str__(self):
        return f"{self.queue_id} {self.language}"


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


class QueueVisitQuerySet(models.QuerySet):
    def reported(self) -> "QueueVisitQuerySet":
        """The visits reports count: all but those of test calls."""
        return self.filter(is_test_call=False)


class QueueVisit(models.Model):
    """One caller's stay in one queue, dated by when it entered the queue."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="visits"
    )
    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="queue_visits"
    )
    queue_sid = models.CharField(_("Twilio queue SID"), max_length=34, blank=True)
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    result = models.CharField(
        _("result"), max_length=32, choices=QueueResult.choices, default=QueueResult.WAITING
    )
    # Twilio's QueueTime when the visit stopped waiting (connect URL or Enqueue action).
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    agent_call_sid = models.CharField(_("agent leg SID"), max_length=34, blank=True)
    # The answering agent's client identity (the agent leg's From without "client:").
    agent_identity = models.CharField(_("agent identity"), max_length=128, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), null=True, blank=True)
    wrap_up_seconds = models.PositiveIntegerField(_("wrap-up (s)"), null=True, blank=True)
    # The n-th time this call entered this queue: one row per (call, queue, entry).
    entry = models.PositiveSmallIntegerField(_("entry"), default=1)
    # QueueTime of the last position announcement; throttles announcements to every N seconds.
    announced_at_queue_time = models.PositiveIntegerField(
        _("last announced at (s)"), null=True, blank=True
    )
    # Set by the flow's queue step; a higher number is offered to agents first (push routing).
    caller_priority = models.PositiveSmallIntegerField(_("caller priority"), default=0)
    # The caller accepted a callback and left the queue for it (virtual hold): the number to
    # call and when. The flow does not continue after such a visit; routing owns the callback.
    callback_number = models.CharField(_("callback number"), max_length=32, blank=True)
    callback_requested_at = models.DateTimeField(_("callback requested"), null=True, blank=True)
    # A call placed by `simulate_call --keep`: kept for inspection, left out of every report.
    is_test_call = models.BooleanField(_("test call"), default=False)
    # Set by routing when it offers this caller to an agent (the visit's row locked): without
    # it no offer for the visit can be open (docs/architecture.md §7).
    offered = models.BooleanField(_("offered to an agent"), default=False)

    objects = QueueVisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("queue visit")
        verbose_name_plural = _("queue visits")
        constraints = [
            # Duplicated or reordered callbacks race to create the same visit: one wins.
            models.UniqueConstraint(
                fields=["call", "queue", "entry"], name="visit_call_queue_entry_uniq"
            ),
        ]
        indexes = [
            # Queue reports: visits of one queue in a date range, bucketed by entered_at.
            models.Index(fields=["queue", "entered_at"], name="visit_queue_entered_idx"),
            # Reports over all queues in a date range.
            models.Index(fields=["entered_at"], name="visit_entered_idx"),
            # Agent report: answered visits per agent in a range.
            models.Index(fields=["agent_identity", "entered_at"], name="visit_agent_entered_idx"),
            # Estimated wait: this queue's most recently answered visits.
            models.Index(fields=["queue", "-answered_at"], name="visit_queue_answered_idx"),
            # Live figures: callers waiting now, per queue.
            models.Index(fields=["result", "queue"], name="visit_result_queue_idx"),
            # Dial action: the visit an agent leg took.
            models.Index(fields=["agent_call_sid"], name="visit_agent_call_idx"),
        ]

    def __str__(self):
        return f"{self.call_id} in {self.queue_id} ({self.result})"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None or self.result == QueueResult.BRIDGED


# A visit is open until the Enqueue action gave its final QueueResult.
OPEN_RESULTS = (QueueResult.WAITING, QueueResult.BRIDGING)

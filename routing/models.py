"""The ACD's rows: offers (one ring of one agent), bridges (the conference of an answered
caller) and the few named clocks that coordinate workers through the database."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from ivr.models import BusinessHours
from queues.models import Queue, QueueVisit


class OfferOutcome(models.TextChoices):
    OPEN = "", _("ringing")
    ACCEPTED = "accepted", _("accepted")
    MISSED = "missed", _("missed")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Offer(models.Model):
    """One ring of one agent for one waiting caller. Open (outcome blank) from the decision
    until the agent answers, lets it ring out, rejects it, or the caller goes.

    An offer names exactly one of: a waiting caller's queue visit, a callback (virtual hold),
    or a transfer (a colleague rung for an answered caller, cold or consult), so a transfer
    ring is guarded by the same "one open offer per agent" as any other (docs/routing.md).
    """

    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="offers"
    )
    visit = models.ForeignKey(
        QueueVisit,
        verbose_name=_("queue visit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
    )
    callback = models.ForeignKey(
        "Callback",
        verbose_name=_("callback"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
    )
    transfer = models.ForeignKey(
        "Transfer",
        verbose_name=_("transfer"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="offers",
    )
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="offers"
    )
    # The agent's leg, once Twilio accepted calls.create (null until the ring task ran).
    agent_call_sid = models.CharField(_("agent leg SID"), max_length=34, blank=True)
    ring_timeout_seconds = models.PositiveSmallIntegerField(_("ring timeout (s)"))
    started_at = models.DateTimeField(_("started"))
    rang_at = models.DateTimeField(_("rang"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=OfferOutcome.choices, default="", blank=True
    )

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-started_at"]
        constraints = [
            # The last line of "exactly once": whatever the code does, the database refuses a
            # second ringing offer to one agent, or for one caller.
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(outcome=""), name="offer_one_open_per_agent"
            ),
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(outcome=""), name="offer_one_open_per_visit"
            ),
            models.UniqueConstraint(
                fields=["callback"],
                condition=models.Q(outcome=""),
                name="offer_one_open_per_callback",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    visit__isnull=False, callback__isnull=True, transfer__isnull=True
                )
                | models.Q(visit__isnull=True, callback__isnull=False, transfer__isnull=True)
                | models.Q(visit__isnull=True, callback__isnull=True, transfer__isnull=False),
                name="offer_one_target",
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "started_at"], name="offer_agent_started_idx"),
            models.Index(fields=["started_at"], name="offer_started_idx"),
            models.Index(fields=["agent_call_sid"], name="offer_agent_call_idx"),
        ]

    def __str__(self):
        if self.transfer_id:
            target = f"transfer {self.transfer_id}"
        else:
            target = f"callback {self.callback_id}" if self.callback_id else self.visit_id
        return f"{self.agent_id} for {target} ({self.outcome or 'ringing'})"

    @property
    def is_open(self) -> bool:
        return self.outcome == OfferOutcome.OPEN

    @property
    def ring_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class Bridge(models.Model):
    """The Twilio conference an answered caller and the agent meet in. Its name is the only
    thing Twilio sees: ``visit-<id>``, no number or name."""

    visit = models.OneToOneField(
        QueueVisit, verbose_name=_("queue visit"), on_delete=models.PROTECT, related_name="bridge"
    )
    offer = models.OneToOneField(
        Offer, verbose_name=_("offer"), on_delete=models.PROTECT, related_name="bridge"
    )
    friendly_name = models.CharField(_("conference name"), max_length=64, unique=True)
    conference_sid = models.CharField(_("conference SID"), max_length=34, blank=True)
    created_at = models.DateTimeField(_("created"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # The caller's time on hold in this bridge, summed as each hold ends (routing/control.py);
    # reports add it to AHT without a join to the holds.
    hold_seconds = models.PositiveIntegerField(_("hold (s)"), default=0)

    class Meta:
        verbose_name = _("bridge")
        verbose_name_plural = _("bridges")

    def __str__(self):
        return self.friendly_name


class ParticipantRole(models.TextChoices):
    CUSTOMER = "customer", _("customer")
    AGENT = "agent", _("agent")
    # An outside number the agent added to the call (a three-way call with a number).
    OUTSIDE = "outside", _("outside number")


class BridgeParticipant(models.Model):
    """One leg in a bridge, with its role; hold and supervision will add their columns."""

    bridge = models.ForeignKey(
        Bridge, verbose_name=_("bridge"), on_delete=models.CASCADE, related_name="participants"
    )
    call_sid = models.CharField(_("call SID"), max_length=34)
    role = models.CharField(_("role"), max_length=16, choices=ParticipantRole.choices)
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, null=True, blank=True
    )
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True)
    left_at = models.DateTimeField(_("left"), null=True, blank=True)

    class Meta:
        verbose_name = _("bridge participant")
        verbose_name_plural = _("bridge participants")
        constraints = [
            models.UniqueConstraint(fields=["bridge", "call_sid"], name="participant_leg_uniq")
        ]

    def __str__(self):
        return f"{self.role} {self.call_sid}"


class Hold(models.Model):
    """One time the caller was on hold in a bridge: from the agent's hold to their resume, or
    to the end of the bridge (routing/control.py)."""

    bridge = models.ForeignKey(
        Bridge, verbose_name=_("bridge"), on_delete=models.CASCADE, related_name="holds"
    )
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="holds"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.UniqueConstraint(
                fields=["bridge"],
                condition=models.Q(ended_at=None),
                name="hold_one_open_per_bridge",
            )
        ]

    def __str__(self):
        return f"{self.bridge} {self.started_at}"

    @property
    def seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return max(0, round((self.ended_at - self.started_at).total_seconds()))


class TransferKind(models.TextChoices):
    AGENT = "agent", _("to an agent")
    QUEUE = "queue", _("to a queue")
    NUMBER = "number", _("to a number")
    # Warm: a consultation (open while not connected), then completed (connected), turned into
    # a three-way call, or cancelled; only completed ones are transfers in the reports.
    CONSULT = "consult", _("consult, then transfer")
    THREE_WAY = "three-way", _("three-way call")
    CANCELLED = "cancelled", _("consult cancelled")
    # An outside number added to the call (the caller stays in): ringing, then in the call,
    # until dropped or gone; counted only when the agent left it to the caller (connected).
    THREE_WAY_NUMBER = "three-way-number", _("three-way call with a number")


class Transfer(models.Model):
    """The agent passed the caller of a bridge on (a cold transfer): to a queue (a new visit
    there), another agent, or an outside number (routing/control.py)."""

    bridge = models.ForeignKey(
        Bridge, verbose_name=_("bridge"), on_delete=models.CASCADE, related_name="transfers"
    )
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TransferKind.choices)
    from_queue = models.ForeignKey(
        Queue,
        verbose_name=_("from queue"),
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    to_queue = models.ForeignKey(
        Queue,
        verbose_name=_("to queue"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
    )
    to_agent = models.ForeignKey(
        Agent,
        verbose_name=_("to agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
    )
    to_number = models.CharField(_("to number"), max_length=32, blank=True)
    # To an agent: the ring of their softphone, and whether they answered (a queue or a number
    # is reached at once). Only connected transfers are counted.
    call_sid = models.CharField(_("ring SID"), max_length=34, blank=True)
    connected = models.BooleanField(_("connected"), default=True)
    created_at = models.DateTimeField(_("created"))
    # A third party (a consulted colleague, an outside number): when their leg answered and
    # when it ended (dropped, hung up, or a ring that was never answered, with its status).
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_status = models.CharField(_("end status"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        indexes = [models.Index(fields=["created_at"], name="transfer_created_idx")]

    def __str__(self):
        return f"{self.bridge} {self.kind}"


class Clock(models.Model):
    """A named moment shared by every process: the routing lock, the REST pacer's next free
    slot, each periodic job's next run. Taken with an UPDATE, so one process at a time."""

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")

    def __str__(self):
        return f"{self.name} {self.at}"


class CallbackStatus(models.TextChoices):
    REQUESTED = "requested", _("waiting")
    DIALLING = "dialling", _("dialling")
    CONNECTED = "connected", _("connected")
    FAILED = "failed", _("failed")


class Callback(models.Model):
    """A caller who left a queue to be called back (virtual hold), keeping their place: it is
    served in the queue's order by the visit's caller priority and original entry. Requested
    until an agent accepts its offer (dialling: the customer is being called), then connected,
    or back to requested after an unanswered call (retried after the queue's delay), or failed
    after the queue's attempts."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="callbacks"
    )
    visit = models.OneToOneField(
        QueueVisit, verbose_name=_("queue visit"), on_delete=models.PROTECT, related_name="callback"
    )
    number = models.CharField(_("number to call"), max_length=32)
    # The caller's place: their original entry into the queue and their caller priority.
    entered_at = models.DateTimeField(_("entered the queue"))
    caller_priority = models.PositiveSmallIntegerField(_("caller priority"), default=0)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CallbackStatus.choices,
        default=CallbackStatus.REQUESTED,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    # The attempt in progress (dialling) or that connected.
    agent = models.ForeignKey(
        Agent,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    agent_call_sid = models.CharField(_("agent leg SID"), max_length=34, blank=True)
    customer_call_sid = models.CharField(_("customer leg SID"), max_length=34, blank=True)
    dialled_at = models.DateTimeField(_("dialled"), null=True, blank=True)
    connected_at = models.DateTimeField(_("connected"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="callback_status_next_idx"),
            models.Index(fields=["queue", "requested_at"], name="callback_queue_requested_idx"),
            models.Index(fields=["agent_call_sid"], name="callback_agent_call_idx"),
            models.Index(fields=["customer_call_sid"], name="callback_customer_call_idx"),
        ]

    def __str__(self):
        return f"callback {self.pk} ({self.status})"

    @property
    def conference_name(self) -> str:
        """No personal data: the callback and its attempt."""
        return f"callback-{self.pk}-{self.attempts}"


class CallbackHours(models.Model):
    """When a queue's callbacks may be offered and dialled: an IVR business-hours schedule.
    A queue without one offers and dials callbacks at any time."""

    queue = models.OneToOneField(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="callback_hours"
    )
    hours = models.ForeignKey(
        BusinessHours, verbose_name=_("business hours"), on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("callback hours")
        verbose_name_plural = _("callback hours")

    def __str__(self):
        return f"{self.queue} – {self.hours}"


class MonitoringMode(models.TextChoices):
    LISTEN = "listen", _("listen")
    WHISPER = "whisper", _("whisper")
    BARGE = "barge", _("barge")


class Monitoring(models.Model):
    """A supervisor on an agent's live call from their own softphone: listening (muted),
    whispering (coaching the agent: only the agent hears them) or barged in (everyone hears
    them). Their leg is not a bridge participant: it never ends the call nor counts as talk."""

    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisor"),
        on_delete=models.PROTECT,
        related_name="monitorings",
    )
    # The supervisor's own softphone (their Agent row), rung into the conference.
    supervisor_agent = models.ForeignKey(
        Agent,
        verbose_name=_("supervisor's softphone"),
        on_delete=models.PROTECT,
        related_name="monitorings_made",
    )
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="monitored"
    )
    bridge = models.ForeignKey(
        Bridge, verbose_name=_("bridge"), on_delete=models.CASCADE, related_name="monitorings"
    )
    mode = models.CharField(_("mode"), max_length=16, choices=MonitoringMode.choices)
    # Every mode the session had, in order: [{"mode": "listen", "at": ISO time}, ...].
    mode_changes = models.JSONField(_("mode changes"), default=list, blank=True)
    call_sid = models.CharField(_("supervisor leg SID"), max_length=34, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("monitoring")
        verbose_name_plural = _("monitorings")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["supervisor_agent"],
                condition=models.Q(ended_at=None),
                name="monitoring_one_open_per_softphone",
            )
        ]

    def __str__(self):
        return f"{self.supervisor_agent} → {self.agent} ({self.mode})"


class Recording(models.Model):
    """A dual-channel recording of the customer's leg (a queue that records answered calls):
    the caller's leg in a bridge, or the customer's leg of a callback, started by the app once
    customer and agent are together. ``media_url`` is Twilio's address of the audio; pages only
    ever link the app's own proxy of it."""

    # Exactly one of the two (a check constraint).
    bridge = models.ForeignKey(
        Bridge,
        verbose_name=_("bridge"),
        on_delete=models.CASCADE,
        related_name="recordings",
        null=True,
        blank=True,
    )
    callback = models.ForeignKey(
        "Callback",
        verbose_name=_("callback"),
        on_delete=models.CASCADE,
        related_name="recordings",
        null=True,
        blank=True,
    )
    call_sid = models.CharField(_("call SID"), max_length=34)
    sid = models.CharField(_("recording SID"), max_length=34, unique=True)
    status = models.CharField(_("status"), max_length=16, default="in-progress")
    channels = models.PositiveSmallIntegerField(_("channels"), default=2)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    paused = models.BooleanField(_("paused"), default=False)
    # Every pause and resume, in order: [{"status": "paused", "at": ISO time}, ...].
    pauses = models.JSONField(_("pauses"), default=list, blank=True)
    media_url = models.URLField(_("media URL"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["started_at"]
        permissions = [("play_recording", _("Can play call recordings"))]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(bridge__isnull=False, callback__isnull=True)
                    | models.Q(bridge__isnull=True, callback__isnull=False)
                ),
                name="recording_of_bridge_or_callback",
            )
        ]
        indexes = [
            models.Index(fields=["call_sid"], name="recording_call_idx"),
            models.Index(fields=["ended_at"], name="recording_ended_idx"),
        ]

    def __str__(self):
        return self.sid

    @property
    def agent(self):
        """The agent who talked with the customer (who answered the bridge, or placed the
        callback). Select ``bridge__offer__agent`` and ``callback__agent`` to read it freely."""
        if self.bridge_id is not None:
            return self.bridge.offer.agent
        return self.callback.agent

    @property
    def queue(self):
        if self.bridge_id is not None:
            return self.bridge.visit.queue
        return self.callback.queue

    @property
    def review_or_none(self):
        try:
            return self.review
        except models.ObjectDoesNotExist:
            return None


# The quality checklist a supervisor scores a recorded call on (keys are stored).
REVIEW_CHECKLIST = (
    ("greeting", _("Greeted the caller and gave their name")),
    ("identified", _("Identified the caller and their request")),
    ("resolved", _("Resolved the request or said what happens next")),
    ("courteous", _("Courteous and clear throughout")),
    ("closing", _("Closed the call properly")),
)


class QualityReview(models.Model):
    """A supervisor's score of a recorded call against REVIEW_CHECKLIST, with a comment the
    agent who took the call can read."""

    recording = models.OneToOneField(
        Recording, verbose_name=_("recording"), on_delete=models.CASCADE, related_name="review"
    )
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.PROTECT, related_name="quality_reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="quality_reviews_made",
    )
    # {"greeting": true, ...}: every checklist key, met or not.
    checks = models.JSONField(_("checklist"), default=dict)
    comment = models.TextField(_("comment"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"))

    class Meta:
        verbose_name = _("quality review")
        verbose_name_plural = _("quality reviews")
        ordering = ["-reviewed_at"]

    def __str__(self):
        return f"{self.recording} ({self.score}/{len(REVIEW_CHECKLIST)})"

    @property
    def score(self) -> int:
        return sum(1 for key, _label in REVIEW_CHECKLIST if self.checks.get(key))

    @property
    def checked_keys(self) -> list[str]:
        return [key for key, _label in REVIEW_CHECKLIST if self.checks.get(key)]

    def items(self) -> list[tuple[str, bool]]:
        return [(label, bool(self.checks.get(key))) for key, label in REVIEW_CHECKLIST]

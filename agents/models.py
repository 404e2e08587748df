from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from queues.models import Queue, QueueVisit

identity_validator = RegexValidator(r"^[A-Za-z0-9_-]+$", _("Use only letters, digits, _ and -."))


class AgentStatus(models.TextChoices):
    OFFLINE = "offline", _("offline")
    AVAILABLE = "available", _("available")
    ON_CALL = "on-call", _("on call")
    WRAP_UP = "wrap-up", _("wrap-up")
    BREAK = "break", _("break")
    # Let an offered call ring out: not offered calls until ready again (routing app).
    MISSED = "missed", _("missed a call")


class Agent(models.Model):
    """A person who takes calls: one per user, reached in the browser as client:<identity>."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent",
        verbose_name=_("user"),
    )
    identity = models.CharField(
        _("client identity"), max_length=64, unique=True, validators=[identity_validator]
    )
    phone_number = models.CharField(_("phone number"), max_length=20, blank=True)
    queues = models.ManyToManyField(
        Queue, through="QueueMembership", related_name="agents", verbose_name=_("queues")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE
    )
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when a call ends into automatic wrap-up; past this moment the agent is available.
    wrap_up_until = models.DateTimeField(_("wrap-up until"), null=True, blank=True)
    # The agent's own leg of the call in progress (softphone CallSid), to recognise its end.
    current_call_sid = models.CharField(_("current call SID"), max_length=34, blank=True)
    # The queued caller this agent is talking to, or talked to last (screen-pop, wrap-up time).
    current_visit = models.ForeignKey(
        QueueVisit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current queue visit"),
    )
    # When the agent's last call ended: with status_changed_at, how long the agent has been idle.
    last_call_ended_at = models.DateTimeField(_("last call ended"), null=True, blank=True)
    # Set when the agent missed an offered call and the queue clears that by itself.
    missed_until = models.DateTimeField(_("missed until"), null=True, blank=True)
    # Set by routing when it offers the agent a call (the agent's row locked), cleared by routing
    # when it finds no open offer of the agent: without it, none can be open, and taking a
    # call needs no look for a ring to stop (docs/architecture.md §7).
    may_have_offer = models.BooleanField(_("may have an open offer"), default=False)
    auto_answer = models.BooleanField(
        _("answer offered calls automatically"),
        default=False,
        help_text=_("The softphone accepts a call pushed to it at once, without a click."),
    )
    # When the softphone last said it is registered with Twilio (its Device's "registered"
    # event; refreshed while the desk stays open). Null once it unregisters: calls cannot reach
    # the agent, who is then not counted available whatever the status says.
    device_seen_at = models.DateTimeField(
        _("softphone registered, last seen"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["identity"]

    def __str__(self):
        return self.identity


class QueueMembership(models.Model):
    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="memberships"
    )
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="memberships"
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=1, help_text=_("1 is offered calls first.")
    )

    class Meta:
        verbose_name = _("queue membership")
        verbose_name_plural = _("queue memberships")
        constraints = [
            models.UniqueConstraint(fields=["agent", "queue"], name="membership_agent_queue_uniq")
        ]

    def __str__(self):
        return f"{self.agent} in {self.queue}"


class AgentStatusInterval(models.Model):
    """One stretch of time an agent spent in one status; ended_at is null for the current one."""

    agent = models.ForeignKey(
        Agent, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="status_intervals"
    )
    status = models.CharField(_("status"), max_length=16, choices=AgentStatus.choices)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent status interval")
        verbose_name_plural = _("agent status intervals")
        indexes = [
            # Agent report: intervals of each agent overlapping a date range.
            models.Index(fields=["agent", "started_at"], name="agentstatus_agent_started_idx"),
            models.Index(fields=["started_at"], name="agentstatus_started_idx"),
        ]
        constraints = [
            # One open interval per agent; also serves "the agent's open interval" on every change.
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(ended_at__isnull=True),
                name="agentstatus_one_open_per_agent",
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.status} from {self.started_at}"


class Disposition(models.Model):
    """How a contact ended (resolved, call back, complaint…): a list supervisors keep."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("disposition")
        verbose_name_plural = _("dispositions")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


# Longest contact note or customer note, in characters: a page of text, not a file.
NOTE_MAX_CHARS = 5000


class NumberType(models.TextChoices):
    """Kinds of numbers in the numbering plan (libphonenumber's types). Premium-rate,
    shared-cost, UAN (Japan's 0570 Navi Dial), personal, pager and voicemail numbers are the
    ones toll fraud uses: no prefix allows them unless a supervisor ticks them."""

    FIXED_LINE = "fixed_line", _("fixed line")
    MOBILE = "mobile", _("mobile")
    TOLL_FREE = "toll_free", _("toll free")
    VOIP = "voip", _("IP phone (050)")
    PREMIUM_RATE = "premium_rate", _("premium rate (0990)")
    SHARED_COST = "shared_cost", _("shared cost")
    UAN = "uan", _("universal access (0570)")
    PERSONAL_NUMBER = "personal_number", _("personal number")
    PAGER = "pager", _("pager")
    VOICEMAIL = "voicemail", _("voicemail access")


DEFAULT_NUMBER_TYPES = ",".join(
    [NumberType.FIXED_LINE, NumberType.MOBILE, NumberType.TOLL_FREE, NumberType.VOIP]
)


class DialPrefix(models.Model):
    """A number prefix agents may call out to; anything not matching one is refused, and so is
    a number that is not valid in its country's numbering plan or of a type not allowed here."""

    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        unique=True,
        validators=[
            RegexValidator(
                r"^\+[1-9][0-9]{0,14}$", _("A + followed by the country code (and more digits).")
            )
        ],
        help_text=_("E.164 start of the numbers allowed, for example +81 for Japan."),
    )
    description = models.CharField(_("description"), max_length=100, blank=True)
    number_types = models.CharField(
        _("number types"),
        max_length=200,
        default=DEFAULT_NUMBER_TYPES,
        help_text=_("Kinds of numbers under this prefix agents may call."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("allowed dialling prefix")
        verbose_name_plural = _("allowed dialling prefixes")
        ordering = ["prefix"]

    def __str__(self):
        return self.prefix

    @property
    def number_type_set(self) -> set[str]:
        return {value for value in self.number_types.split(",") if value}


class Customer(models.Model):
    """Someone who calls in, found by the caller's number in E.164."""

    phone_number = models.CharField(_("phone number (E.164)"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=NOTE_MAX_CHARS)
    is_vip = models.BooleanField(
        _("VIP"), default=False, help_text=_("Offered to agents before other callers.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "phone_number"]

    def __str__(self):
        return self.name or self.phone_number


class ContactNote(models.Model):
    """What an agent wrote about one contact: a disposition and free text."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_notes",
        verbose_name=_("customer"),
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="contact_notes", verbose_name=_("agent")
    )
    phone_number = models.CharField(_("phone number"), max_length=128, blank=True)
    call_sid = models.CharField(_("call SID"), max_length=34, blank=True)
    queue = models.ForeignKey(
        Queue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("queue"),
    )
    disposition = models.ForeignKey(
        Disposition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contact_notes",
        verbose_name=_("disposition"),
    )
    text = models.TextField(_("note"), blank=True, max_length=NOTE_MAX_CHARS)
    created_at = models.DateTimeField(_("written"))

    class Meta:
        verbose_name = _("contact note")
        verbose_name_plural = _("contact notes")
        ordering = ["-created_at"]
        indexes = [
            # Screen-pop and customer page: a customer's notes, newest first.
            models.Index(fields=["customer", "-created_at"], name="note_customer_created_idx"),
            # Notes written about numbers with no customer yet, newest first.
            models.Index(fields=["phone_number", "-created_at"], name="note_phone_created_idx"),
        ]

    def __str__(self):
        return f"{self.agent} {self.created_at:%Y-%m-%d %H:%M}"

"""Call flows as data: numbers start flows, flows are steps, menus map keys to steps."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from queues.models import Queue
from telephony.models import Call

e164_validator = RegexValidator(
    r"^\+[1-9]\d{1,14}$",
    _("Enter the number in E.164 format: + then the country code and number, e.g. +815012345678."),
)
dtmf_key_validator = RegexValidator(
    r"^[0-9*#]+$",
    _("Keys are the phone's keys: digits 0-9, * and #."),
)
step_name_validator = RegexValidator(
    r"^[\w.-]+$",
    _("Use letters, digits, _, . and - (no spaces)."),
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone %(zone)s."), params={"zone": value})


class Flow(models.Model):
    """A call flow: what a caller hears and where each key leads."""

    class Language(models.TextChoices):
        JAPANESE = "ja-JP", _("Japanese (ja-JP)")
        ENGLISH = "en-US", _("English (en-US)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    language = models.CharField(
        _("language"), max_length=16, choices=Language.choices, default=Language.JAPANESE
    )
    voice = models.CharField(
        _("voice"),
        max_length=64,
        blank=True,
        help_text=_("Twilio <Say> voice, e.g. Polly.Mizuki or Polly.Joanna; blank = default."),
    )
    start_step = models.ForeignKey(
        "Step",
        verbose_name=_("start step"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where every call of this flow begins."),
    )
    # Bumped by every change of the flow, its steps or options: part of the cache key, so each
    # process sees a change at its next webhook.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call flow")
        verbose_name_plural = _("call flows")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PhoneNumber(models.Model):
    """One of our Twilio numbers and the flow its calls start."""

    number = models.CharField(_("number"), max_length=16, unique=True, validators=[e164_validator])
    name = models.CharField(_("name"), max_length=100)
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.PROTECT, related_name="numbers"
    )
    twilio_sid = models.CharField(
        _("Twilio SID"), max_length=34, blank=True, help_text=_("PN… (optional).")
    )

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} ({self.name})"


class BusinessHours(models.Model):
    """A weekly opening schedule with holidays, in one time zone."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Tokyo", validators=[validate_time_zone]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningRange(models.Model):
    """Open from ``opens`` to ``closes`` (exclusive) on one weekday; 00:00 closes at midnight."""

    schedule = models.ForeignKey(
        BusinessHours,
        verbose_name=_("business hours"),
        on_delete=models.CASCADE,
        related_name="ranges",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening range")
        verbose_name_plural = _("opening ranges")
        ordering = ["weekday", "opens"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self):
        midnight = self.closes is not None and self.closes.hour == 0 and self.closes.minute == 0
        if self.opens and self.closes and not midnight and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})


class Holiday(models.Model):
    schedule = models.ForeignKey(
        BusinessHours,
        verbose_name=_("business hours"),
        on_delete=models.CASCADE,
        related_name="holidays",
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="ivr_holiday_unique_date")
        ]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class Step(models.Model):
    """One step of a flow. Which fields matter depends on ``kind`` (see KIND_FIELDS)."""

    class Kind(models.TextChoices):
        SAY = "say", _("Say a message")
        MENU = "menu", _("Menu (press a key)")
        QUEUE = "queue", _("Queue for an agent")
        HOURS = "hours", _("Business hours check")
        VOICEMAIL = "voicemail", _("Voicemail")
        DIAL = "dial", _("Forward to a number")
        GOTO = "goto", _("Go to another flow")
        HANGUP = "hangup", _("Hang up")

    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="steps"
    )
    name = models.CharField(
        _("name"),
        max_length=64,
        validators=[step_name_validator],
        help_text=_("Short unique name inside the flow, e.g. main-menu."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(
        _("text"),
        blank=True,
        help_text=_(
            "What the caller hears: the message (say), the prompt (menu, voicemail), or the "
            "goodbye (hang up, optional)."
        ),
    )
    audio_url = models.URLField(
        _("audio URL"),
        max_length=500,
        blank=True,
        help_text=_("Played instead of the text when set."),
    )
    # menu
    num_digits = models.PositiveSmallIntegerField(
        _("digits expected"), default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    timeout = models.PositiveSmallIntegerField(
        _("timeout (s)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Menu: seconds of silence before the no-input path. Dial: seconds to ring."),
    )
    invalid_message = models.TextField(
        _("invalid-key message"),
        blank=True,
        help_text=_("Said when the caller presses a key no option uses; the menu then repeats."),
    )
    repeat_prompt = models.BooleanField(
        _("repeat the prompt after an invalid key"),
        default=True,
        help_text=_("Off when the invalid-key message already lists the choices."),
    )
    no_input_message = models.TextField(
        _("no-input message"), blank=True, help_text=_("Said when the caller presses nothing.")
    )
    max_retries = models.PositiveSmallIntegerField(
        _("retries"),
        default=3,
        validators=[MaxValueValidator(10)],
        help_text=_(
            "How many times the menu repeats after invalid keys (or silence with no no-input "
            "step) before the caller is sent to the no-input step, or hung up."
        ),
    )
    no_input_step = models.ForeignKey(
        "self",
        verbose_name=_("on silence go to"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Where silence leads. Blank = the menu repeats."),
    )
    # queue
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, null=True, blank=True
    )
    caller_priority = models.PositiveSmallIntegerField(
        _("caller priority"),
        default=0,
        validators=[MaxValueValidator(9)],
        help_text=_("0–9; callers with a higher number are offered to agents first."),
    )
    # hours
    schedule = models.ForeignKey(
        BusinessHours,
        verbose_name=_("business hours"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    open_step = models.ForeignKey(
        "self",
        verbose_name=_("when open go to"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_step = models.ForeignKey(
        "self",
        verbose_name=_("when closed go to"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Also used on holidays."),
    )
    # voicemail
    max_length = models.PositiveIntegerField(
        _("max recording length (s)"),
        default=120,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    # dial
    dial_number = models.CharField(
        _("forward to"), max_length=16, blank=True, validators=[e164_validator]
    )
    # goto
    goto_flow = models.ForeignKey(
        Flow,
        verbose_name=_("go to flow"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # say, queue, voicemail, dial (last, as the admin shows it)
    next_step = models.ForeignKey(
        "self",
        verbose_name=_("next step"),
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Where the call continues: after the message (say), after leaving the queue by the "
            "system (queue), after the recording (voicemail), on no answer (dial). Blank = hang "
            "up."
        ),
    )

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["flow", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "name"], name="ivr_step_unique_name_per_flow")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        required = {
            self.Kind.QUEUE: ("queue", self.queue_id),
            self.Kind.HOURS: ("schedule", self.schedule_id),
            self.Kind.DIAL: ("dial_number", self.dial_number),
            self.Kind.GOTO: ("goto_flow", self.goto_flow_id),
        }
        if self.kind in required:
            field, value = required[self.kind]
            if not value:
                errors[field] = _("A %(kind)s step needs this.") % {"kind": self.get_kind_display()}
        if self.kind in (self.Kind.SAY, self.Kind.MENU) and not (self.text or self.audio_url):
            errors["text"] = _("Give the text to say or an audio URL.")
        for field in STEP_TARGET_FIELDS:
            if field not in KIND_FIELDS.get(self.kind, ()):
                continue
            target = getattr(self, field)
            if target is not None and self.flow_id is not None and target.flow_id != self.flow_id:
                errors[field] = _("Choose a step of the same flow.")
            elif target is not None and target.pk == self.pk and self.kind != self.Kind.MENU:
                errors[field] = _("A step cannot lead to itself.")
        if errors:
            raise ValidationError(errors)


# The one list of the fields each kind uses (beyond flow, name, kind), in export order: the admin
# shows and hides, the flow files export and import, and clean() checks by it.
KIND_FIELDS = {
    Step.Kind.SAY: ["text", "audio_url", "next_step"],
    Step.Kind.MENU: [
        "text",
        "audio_url",
        "num_digits",
        "timeout",
        "invalid_message",
        "repeat_prompt",
        "no_input_message",
        "max_retries",
        "no_input_step",
    ],
    Step.Kind.QUEUE: ["queue", "caller_priority", "next_step"],
    Step.Kind.HOURS: ["schedule", "open_step", "closed_step"],
    Step.Kind.VOICEMAIL: ["text", "audio_url", "max_length", "next_step"],
    Step.Kind.DIAL: ["dial_number", "timeout", "next_step"],
    Step.Kind.GOTO: ["goto_flow"],
    Step.Kind.HANGUP: ["text"],
}
# Every kind's fields together, in the order the model declares them (the admin's order).
STEP_FIELD_NAMES = [
    field.name
    for field in Step._meta.fields
    if any(field.name in fields for fields in KIND_FIELDS.values())
]
# Fields that lead to another step of the same flow.
STEP_TARGET_FIELDS = ["next_step", "no_input_step", "open_step", "closed_step"]


class MenuOption(models.Model):
    """A key (or key sequence) of a menu and the step it leads to."""

    # The flow is repeated here so that a flow's options are edited inline with its steps.
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.CASCADE, related_name="options"
    )
    step = models.ForeignKey(
        Step,
        verbose_name=_("menu"),
        on_delete=models.CASCADE,
        related_name="options",
        limit_choices_to={"kind": Step.Kind.MENU},
    )
    key = models.CharField(_("key"), max_length=20, validators=[dtmf_key_validator])
    # RESTRICT (here and on the steps' targets): a step others lead to is not deleted with
    # them; it goes only when the whole flow does.
    target = models.ForeignKey(
        Step, verbose_name=_("go to"), on_delete=models.RESTRICT, related_name="+"
    )

    class Meta:
        verbose_name = _("menu option")
        verbose_name_plural = _("menu options")
        ordering = ["step", "key"]
        constraints = [
            models.UniqueConstraint(fields=["step", "key"], name="ivr_option_unique_key")
        ]

    def __str__(self):
        return f"{self.key} → {self.target}"

    def clean(self):
        errors = {}
        step = self.step if self.step_id else None
        if step is not None:
            if step.kind != Step.Kind.MENU:
                errors["step"] = _("Options belong to menu steps.")
            elif self.flow_id is not None and step.flow_id != self.flow_id:
                errors["step"] = _("Choose a menu of the same flow.")
            elif self.key and len(self.key) != step.num_digits:
                errors["key"] = _(
                    "The menu expects %(count)d key(s); this option has %(length)d."
                ) % {"count": step.num_digits, "length": len(self.key)}
        if self.target_id and self.flow_id is not None and self.target.flow_id != self.flow_id:
            errors["target"] = _("Choose a step of the same flow.")
        if errors:
            raise ValidationError(errors)


class CallPathEntry(models.Model):
    """One step a call visited, or one answer it gave at a menu, in order."""

    class Outcome(models.TextChoices):
        ENTERED = "entered", _("entered")
        VALID = "valid", _("valid key")
        INVALID = "invalid", _("invalid key")
        NO_INPUT = "no-input", _("no input")

    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="ivr_path"
    )
    at = models.DateTimeField(_("at"))
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    step = models.ForeignKey(
        Step, verbose_name=_("step"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Kept as text so the path still reads after a step is renamed or deleted.
    step_name = models.CharField(_("step"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Step.Kind.choices)
    digits = models.CharField(_("digits"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)

    class Meta:
        verbose_name = _("call path entry")
        verbose_name_plural = _("call path entries")
        ordering = ["at", "id"]
        indexes = [
            # call_path_for(call_sid): one call's path in order.
            models.Index(fields=["call", "at", "id"], name="ivr_path_call_at"),
            # The IVR funnel report: a flow's entries over a date range.
            models.Index(fields=["flow", "at"], name="ivr_path_flow_at"),
        ]

    def __str__(self):
        return f"{self.step_name} {self.outcome} {self.digits}".strip()


class Voicemail(models.Model):
    """A message a caller left at a voicemail step."""

    call = models.ForeignKey(
        Call,
        verbose_name=_("call"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="voicemails",
    )
    flow = models.ForeignKey(
        Flow, verbose_name=_("flow"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    step = models.ForeignKey(
        Step, verbose_name=_("step"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    caller = models.CharField(_("caller"), max_length=64)
    recording_sid = models.CharField(_("recording SID"), max_length=34, blank=True)
    recording_url = models.URLField(_("recording URL"), max_length=500)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), null=True)
    received_at = models.DateTimeField(_("received"))
    # Who is to call the caller back (a supervisor assigns), and who dealt with it, when.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("voicemail")
        verbose_name_plural = _("voicemails")
        ordering = ["-received_at", "-id"]
        indexes = [
            # The voicemail list, newest first.
            models.Index(fields=["-received_at"], name="ivr_voicemail_received"),
        ]
        constraints = [
            # Twilio may repeat the Record action: one voicemail per recording.
            models.UniqueConstraint(fields=["recording_url"], name="ivr_voicemail_unique_recording")
        ]

    def __str__(self):
        return f"{self.caller} {self.received_at:%Y-%m-%d %H:%M}"

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from queues.models import Queue

identity_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+$", _("Use only letters, digits, _ and -.")
)


class AgentStatus(models.TextChoices):
    OFFLINE = "offline", _("offline")
    AVAILABLE = "available", _("available")
    ON_CALL = "on-call", _("on call")
    WRAP_UP = "wrap-up", _("wrap-up")
    BREAK = "break", _("break")


class Agent(models.Model):
    """A person who takes calls: one per user, reached in the browser as client:<identity>."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="agent")
    identity = models.CharField(_("client identity"), max_length=64, unique=True,
                                validators=[identity_validator])
    phone_number = models.CharField(_("phone number"), max_length=20, blank=True)
    queues = models.ManyToManyField(Queue, through="QueueMembership", related_name="agents",
                                    verbose_name=_("queues"))
    status = models.CharField(_("status"), max_length=16, choices=AgentStatus.choices,
                              default=AgentStatus.OFFLINE)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["identity"]

    def __str__(self):
        return self.identity


class QueueMembership(models.Model):
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="memberships")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
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

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="status_intervals")
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

    def __str__(self):
        return f"{self.agent} {self.status} from {self.started_at}"

from django.db import models
from django.utils.translation import gettext_lazy as _

from queues.models import Queue


class QueueHourStats(models.Model):
    """One queue's visits of one settled local hour, added up (see reports.metrics).

    A cache the reports fill and trust only while it matches: same time zone, same thresholds
    as the queue has now. Visits are final a day after they entered the queue; an older visit
    saved again drops its hour, which is added up anew on the next report.
    """

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="+"
    )
    hour_start = models.DateTimeField(_("hour"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    service_level_seconds = models.PositiveIntegerField()
    short_abandon_seconds = models.PositiveIntegerField()
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    overflowed = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    answered_in_sl = models.PositiveIntegerField(default=0)
    wait_sum = models.BigIntegerField(default=0)  # over answered visits with a known wait
    wait_count = models.PositiveIntegerField(default=0)
    handle_sum = models.BigIntegerField(default=0)  # talk + wrap-up over handled visits
    handle_count = models.PositiveIntegerField(default=0)
    longest_wait = models.PositiveIntegerField(null=True)

    class Meta:
        verbose_name = _("queue hour statistics")
        verbose_name_plural = _("queue hour statistics")
        constraints = [
            # Also the index of the queue report: one queue's hours in a range.
            models.UniqueConstraint(
                fields=["queue", "hour_start"], name="queuehour_queue_hour_uniq"
            ),
        ]

    def __str__(self):
        return f"{self.queue_id} {self.hour_start:%Y-%m-%d %H:%M}"


class AgentHourStats(models.Model):
    """One agent's figures of one settled local hour, added up (see reports.metrics).

    Like QueueHourStats, a cache: trusted only for the time zone it was computed in; an older
    visit or status interval saved again drops its hours. An hour that has been added up has a
    row with an empty ``agent_identity`` (HOUR_ADDED_UP), also when nobody worked in it.
    """

    agent_identity = models.CharField(_("agent identity"), max_length=128, blank=True)
    hour_start = models.DateTimeField(_("hour"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    answered = models.PositiveIntegerField(default=0)
    talk_sum = models.BigIntegerField(default=0)  # seconds, over answered visits
    handle_sum = models.BigIntegerField(default=0)  # talk + hold + wrap-up over handled visits
    handle_count = models.PositiveIntegerField(default=0)
    # Microseconds in the hour, so that hours add up exactly to the seconds of a range.
    available_us = models.BigIntegerField(default=0)
    busy_us = models.BigIntegerField(default=0)  # on a call or in wrap-up

    class Meta:
        verbose_name = _("agent hour statistics")
        verbose_name_plural = _("agent hour statistics")
        constraints = [
            # Also the index of the agent report: every agent's hours in a range.
            models.UniqueConstraint(
                fields=["hour_start", "agent_identity"], name="agenthour_hour_identity_uniq"
            ),
        ]

    def __str__(self):
        return f"{self.agent_identity} {self.hour_start:%Y-%m-%d %H:%M}"

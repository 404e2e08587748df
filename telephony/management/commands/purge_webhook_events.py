"""Delete stored webhook requests older than the retention period."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from telephony.services import webhook_events_purge


class Command(BaseCommand):
    help = (
        "Delete webhook events received more than WEBHOOK_EVENT_RETENTION_DAYS days ago "
        "(0 keeps them forever). Run it daily, from cron or a systemd timer, until the "
        "background worker schedules it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days instead of WEBHOOK_EVENT_RETENTION_DAYS.",
        )

    def handle(self, *args, days=None, **options):
        days = settings.WEBHOOK_EVENT_RETENTION_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must not be negative.")
        if days == 0:
            self.stdout.write("Retention is 0 days: webhook events are kept forever.")
            return
        before = timezone.now() - timedelta(days=days)
        deleted = webhook_events_purge(before=before)
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {deleted} webhook event(s) received before {before.isoformat()}."
            )
        )

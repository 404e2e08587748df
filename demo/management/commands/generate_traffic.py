from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.traffic import traffic_generate
from reports.metrics import local_today


class Command(BaseCommand):
    help = (
        "Write D days of realistic synthetic history (calls, queue visits, agents' status) "
        "into the tables webhooks fill; the same --seed gives the same rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True)
        parser.add_argument("--calls-per-day", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--end",
            type=date.fromisoformat,
            default=None,
            help="Last day (YYYY-MM-DD in TIME_ZONE); default: yesterday.",
        )

    def handle(self, *, days, calls_per_day, seed, end, **options):
        if days < 1 or calls_per_day < 1:
            raise CommandError("--days and --calls-per-day must be at least 1")
        end = end or local_today(timezone.now()) - timedelta(days=1)
        width = 30

        def progress(done, day, totals):
            bar = "#" * round(width * done / days)
            self.stdout.write(
                f"\r[{bar:<{width}}] {done}/{days} {day} {totals.visits} visits", ending=""
            )
            self.stdout.flush()

        try:
            totals = traffic_generate(
                days=days, calls_per_day=calls_per_day, seed=seed, end=end, progress=progress
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals.calls} call legs, {totals.visits} queue visits, {totals.intervals} agent "
                f"status intervals up to {end}."
            )
        )

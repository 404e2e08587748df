from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.traffic import FULL_SHIFT_HOURS, PART_SHIFT_HOURS, traffic_generate
from reports.metrics import local_today


def _span(identities: list[str]) -> str:
    """agent3–agent8 for a run of numbered identities, else the names."""
    if len(identities) > 2:
        return f"{identities[0]}–{identities[-1]}"
    return ", ".join(identities)


class Command(BaseCommand):
    help = (
        "Write D days of realistic synthetic history (calls, queue visits, agents' shifts, "
        "breaks and calls) into the tables webhooks fill; the same --seed gives the same rows. "
        "Creates the queues support, sales and billing and the agents agent1, agent2, … it "
        "needs when they are missing, and says which. On PostgreSQL, a run larger than the history "
        "already there is one transaction that builds the tables' plain indexes again at its end."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, required=True, help="How many days of history, at least 1."
        )
        parser.add_argument(
            "--calls-per-day",
            type=int,
            required=True,
            help="Calls on a weekday (weekends get 45 %%); sets how many agents work.",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help="Random seed (default 1): the same seed and --end give the same rows; a seed "
            "already written is refused.",
        )
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
        if totals.queues_created:
            self.stdout.write(f"Created queues: {', '.join(totals.queues_created)}.")
        if totals.agents_created:
            self.stdout.write(
                f"Created agents {_span(totals.agents_created)} "
                f"({len(totals.agents_created)}; users without a password, in group Agents)."
            )
        for slug, identities in totals.staff.items():
            self.stdout.write(f"  queue {slug}: agents {_span(identities)}")
        self.stdout.write(
            f"Agents work {FULL_SHIFT_HOURS}-hour shifts with a lunch hour and two 15-minute "
            f"breaks, or {PART_SHIFT_HOURS}-hour shifts with one break."
        )
        if totals.indexes_rebuilt:
            self.stdout.write(
                "Written in one transaction; the plain indexes of the call, visit and status "
                "tables were dropped at its start and built again at its end."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals.calls} call legs, {totals.visits} queue visits, {totals.intervals} agent "
                f"status intervals up to {end}."
            )
        )

"""``manage.py worker``: the background worker (docs/routing.md)."""

from django.core.management.base import BaseCommand

from routing.worker import run_pending_tasks, run_worker


class Command(BaseCommand):
    help = (
        "Run the background worker until stopped: routing tasks, REST calls to Twilio, the "
        "ring sweep and the daily webhook-event purge. SIGTERM finishes the task in hand."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=0.2,
            help="Seconds to wait when no task is ready (default 0.2).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run the tasks that are ready, then exit."
        )

    def handle(self, *args, interval=0.2, batch=False, **options):
        if batch:
            ran = run_pending_tasks(periodic=True)
            self.stdout.write(f"Ran {ran} task(s).")
            return
        self.stdout.write("Worker started; stop it with SIGTERM or Ctrl-C.")
        self.stdout.flush()
        run_worker(interval=interval)

"""``manage.py worker``: the background worker (docs/routing.md)."""

from django.core.management.base import BaseCommand, CommandError

from routing.worker import run_pending_tasks, run_worker


class Command(BaseCommand):
    help = (
        "Run the background worker until stopped: routing tasks, REST calls to Twilio, the "
        "ring sweep and the daily webhook-event purge. SIGTERM finishes the tasks in hand."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=0.2,
            help="Seconds to wait when no task is ready (default 0.2).",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=1,
            help=(
                "Tasks run at once by this process, each in a thread of its own (default 1). "
                "Tasks mostly wait on Twilio's REST API and the database: a few threads run "
                "more of them on the same cores."
            ),
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run the tasks that are ready, then exit."
        )

    def handle(self, *args, interval=0.2, threads=1, batch=False, **options):
        if threads < 1:
            raise CommandError("--threads must be 1 or more.")
        if batch:
            ran = run_pending_tasks(periodic=True)
            self.stdout.write(f"Ran {ran} task(s).")
            return

        def started():
            self.stdout.write(
                f"Worker started ({threads} task(s) at a time); stop it with SIGTERM or Ctrl-C."
            )
            self.stdout.flush()

        run_worker(interval=interval, threads=threads, started=started)

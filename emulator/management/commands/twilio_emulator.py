"""Run the local Twilio: Twilio's REST API, the phone page and the emulated softphone."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from emulator.server import LocalTwilio

DEMO_NUMBER = "+815012345678"


class Command(BaseCommand):
    help = (
        "Serve a local Twilio for development, training and demos: Twilio's REST API for what "
        "the app uses, a phone page to call the app from the browser, and the emulated "
        "softphone the agent desk uses when TWILIO_API_URL points here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8020, help="port to listen on (8020)")
        parser.add_argument(
            "--app",
            default="http://127.0.0.1:8000",
            help="base URL of the app whose webhooks calls request (http://127.0.0.1:8000)",
        )
        parser.add_argument(
            "--number",
            action="append",
            dest="numbers",
            help=f"a number of the account, answered by the app (repeatable; {DEMO_NUMBER})",
        )
        parser.add_argument(
            "--cps",
            type=float,
            default=1.0,
            help="calls per second the REST API places (Twilio's default CPS is 1)",
        )
        parser.add_argument(
            "--http-threads",
            type=int,
            default=32,
            help="webhooks sent to the app at the same time, at most (32; 0: one at a time from "
            "the engine's thread, as before the pool)",
        )

    def handle(self, *args, **options):
        if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
            raise CommandError(
                "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (any values: the local Twilio and "
                "the app must share them)"
            )
        try:
            twilio = LocalTwilio(
                app_url=options["app"],
                account_sid=settings.TWILIO_ACCOUNT_SID,
                auth_token=settings.TWILIO_AUTH_TOKEN,
                api_key_sid=settings.TWILIO_API_KEY_SID,
                api_key_secret=settings.TWILIO_API_KEY_SECRET,
                twiml_app_sid=settings.TWILIO_TWIML_APP_SID,
                numbers=tuple(options["numbers"] or [DEMO_NUMBER]),
                calls_per_second=options["cps"] or None,
                http_threads=options["http_threads"],
            )
            twilio.serve("127.0.0.1", options["port"])
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from None
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(
            f"Local Twilio on {twilio.url} for the app at {options['app']}\n"
            f"  phone page:  {twilio.url}/\n"
            f"  REST API:    {twilio.url}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/\n"
            f"  the app needs TWILIO_API_URL={twilio.url}"
        )
        stop.wait()
        twilio.stop()
        self.stdout.write("Local Twilio stopped.")

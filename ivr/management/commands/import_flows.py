"""Create or update call flows, schedules and numbers from a JSON document; all or nothing."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from ivr.flowfile import FlowFileError, flows_import


class Command(BaseCommand):
    help = (
        "Import call flows from a JSON file written by export_flows ('-' reads stdin). "
        "Validates everything first; on any problem nothing is changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, or - for stdin")

    def handle(self, *args, **options):
        try:
            if options["file"] == "-":
                document = json.load(sys.stdin)
            else:
                with open(options["file"], encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from None
        try:
            counts = flows_import(document=document)
        except FlowFileError as exc:
            raise CommandError(
                "nothing imported:\n" + "\n".join(f"  {e}" for e in exc.errors)
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {counts['flows']} flow(s), {counts['schedules']} schedule(s), "
                f"{counts['numbers']} number(s)"
            )
        )

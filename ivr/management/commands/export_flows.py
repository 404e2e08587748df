"""Write every call flow, schedule and number as one JSON document (docs/flows.md)."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ivr.flowfile import flows_export


class Command(BaseCommand):
    help = "Export call flows, business hours and numbers as JSON (stdout, or --output FILE)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")

    def handle(self, *args, **options):
        text = json.dumps(flows_export(), ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(_("wrote %(file)s") % {"file": options["output"]})
        else:
            self.stdout.write(text, ending="")

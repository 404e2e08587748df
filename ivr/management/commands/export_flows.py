"""Write call flows, with what they use, as one JSON document (docs/flows.md)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ivr.flowfile import FlowFileError, flows_export


class Command(BaseCommand):
    help = (
        "Export call flows as JSON (stdout, or --output FILE): every flow, or those named with "
        "--flow, with the queues (and their messages), business hours and numbers they use."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument(
            "--flow",
            action="append",
            metavar="NAME",
            help="export only this flow (and the flows it goes to); may be repeated",
        )

    def handle(self, *args, **options):
        try:
            document = flows_export(names=options["flow"])
        except FlowFileError as exc:
            raise CommandError(
                _("nothing exported:") + "\n" + "\n".join(f"  {e}" for e in exc.errors)
            ) from None
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(_("wrote %(file)s") % {"file": options["output"]})
        else:
            self.stdout.write(text, ending="")

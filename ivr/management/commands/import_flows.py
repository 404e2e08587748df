"""Create or update call flows, schedules and numbers from a JSON document; all or nothing."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from ivr.flowfile import FlowFileError, flows_import


class Command(BaseCommand):
    help = (
        "Import call flows from a JSON file written by export_flows ('-' reads stdin). "
        "Validates everything first; on any problem nothing is changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, or - for stdin")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and say what would be created, changed or left; write nothing",
        )

    def handle(self, *args, **options):
        try:
            if options["file"] == "-":
                document = json.load(sys.stdin)
            else:
                with open(options["file"], encoding="utf-8") as handle:
                    document = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("cannot read %(file)s: %(error)s") % {"file": options["file"], "error": exc}
            ) from None
        try:
            counts = flows_import(document=document, dry_run=options["dry_run"])
        except FlowFileError as exc:
            raise CommandError(
                _("nothing imported:") + "\n" + "\n".join(f"  {e}" for e in exc.errors)
            ) from None
        self.write_changes(counts["changes"])
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING(_("dry run: nothing was written")))
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("imported %(flows)s, %(schedules)s, %(numbers)s")
                % {
                    "flows": ngettext("%(n)d flow", "%(n)d flows", counts["flows"])
                    % {"n": counts["flows"]},
                    "schedules": ngettext("%(n)d schedule", "%(n)d schedules", counts["schedules"])
                    % {"n": counts["schedules"]},
                    "numbers": ngettext("%(n)d number", "%(n)d numbers", counts["numbers"])
                    % {"n": counts["numbers"]},
                }
            )
        )

    def write_changes(self, changes):
        kinds = {
            "queues": _("queue"),
            "schedules": _("business hours"),
            "flows": _("flow"),
            "numbers": _("number"),
        }
        states = {
            "created": pgettext("import result", "created"),
            "changed": pgettext("import result", "changed"),
            "unchanged": pgettext("import result", "unchanged"),
        }
        for kind, label in kinds.items():
            for state, state_label in states.items():
                for name in changes.get(kind, {}).get(state, []):
                    self.stdout.write(f"{label} {name}: {state_label}")

"""Idempotent demo data: each app contributes through its own ``demo.seed(command)``.

Apps are visited in INSTALLED_APPS order, lowest layer first, so a queue exists before the flow
that sends callers to it. This keeps the command in the lowest layer without importing upward.
"""

from importlib import import_module, util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or bring back) the demo queue, flow, groups and users. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if util.find_spec(module_name) is None:
                continue
            import_module(module_name).seed(self)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

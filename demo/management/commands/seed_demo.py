"""Idempotent demo data: each app's own ``demo.seed(command)``, lowest layer first, so that the
queue exists before the flow that sends callers to it."""

from django.core.management.base import BaseCommand
from django.db import transaction

from agents import demo as agents_demo
from ivr import demo as ivr_demo
from queues import demo as queues_demo

SEEDS = [queues_demo.seed, ivr_demo.seed, agents_demo.seed]


class Command(BaseCommand):
    help = "Create (or bring back) the demo queue, flow, groups and users. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        for seed in SEEDS:
            seed(self)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

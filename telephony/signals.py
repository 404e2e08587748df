"""Signals the Twilio boundary sends to the apps above it (which it never imports)."""

from django.dispatch import Signal

# Sent after a call leg's status moved forward. kwargs: call, previous_status.
call_status_changed = Signal()

"""Signals the Twilio boundary sends to the apps above it (which it never imports)."""

from django.dispatch import Signal

# Sent after a call leg's status moved forward. kwargs: call, previous_status.
call_status_changed = Signal()

# Sent before the leg upsert of a status callback whose status is final, in its transaction.
# kwargs: params (the request's fields). A receiver that will read a row when the leg ends
# (call_status_changed) may return a telephony.services.AttachedRead for it: the upsert's
# statement reads it (PostgreSQL), and the leg's ``attached_read`` holds what it found.
leg_ending = Signal()

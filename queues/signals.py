"""What the queues app tells the apps above it (routing, agent presence). kwargs: visit.

Each is sent once per visit, inside the webhook's transaction; duplicated callbacks send nothing.
"""

from django.dispatch import Signal

# A caller entered a queue (the first wait-URL request, or the first callback that reveals
# the visit). Not sent for queue-full refusals.
caller_enqueued = Signal()

# An agent took the caller: the connect URL was reached; visit.agent_identity and
# visit.agent_call_sid are set.
caller_connected = Signal()

# The Enqueue action arrived (any QueueResult): visit.result and visit.wait_seconds are final.
caller_left = Signal()

# The agent's Dial action arrived: visit.talk_seconds is set and saved; a receiver writes what
# it changes on the visit itself (agents: a wrap-up of 0, visit_record_wrap_up(visit=)).
talk_recorded = Signal()

# The caller accepted a callback (virtual hold) and is leaving the queue for it:
# visit.callback_number and visit.callback_requested_at are set. Sent in the transaction
# that records it, so the receiver's callback row commits with it. kwargs: visit.
callback_requested = Signal()

# Asked before a callback is offered to a waiting caller. kwargs: queue, now. A receiver that
# returns False suppresses the offer (routing: outside the queue's callback hours).
callback_offer_allowed = Signal()

# Asked before a callback number is accepted. kwargs: number (E.164). A receiver returns a
# reason (str) to refuse it (routing: the outgoing-number rules agents dial under), else "".
callback_number_refused = Signal()

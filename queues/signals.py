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

# The agent's Dial action arrived: visit.talk_seconds is set.
talk_recorded = Signal()

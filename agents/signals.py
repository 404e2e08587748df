"""What agents tells the apps above it (routing). kwargs: agent.

Sent inside the transaction of the change; a repeated report that changes nothing sends nothing.
"""

from django.dispatch import Signal

# The agent can now be offered a call: the status became available (chosen, end of wrap-up,
# end of a missed state), or the softphone registered while available.
agent_became_available = Signal()

# The agent can no longer be offered a call: break, offline, or the softphone unregistered.
agent_became_unreachable = Signal()

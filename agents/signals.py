"""What agents tells the apps above it (routing), or asks them.

The agent's presence (kwargs: agent): sent inside the transaction of the change; a repeated
report that changes nothing sends nothing.
"""

from django.dispatch import Signal

# The agent can now be offered a call: the status became available (chosen, end of wrap-up,
# end of a missed state), or the softphone registered while available.
agent_became_available = Signal()

# The agent can no longer be offered a call: break, offline, or the softphone unregistered.
agent_became_unreachable = Signal()

# The agent went on call (took a caller by hand, answered an offer, a transfer…): a ring of the
# agent must stop. ``agent.may_have_offer`` says whether one can be open at all.
agent_became_busy = Signal()

# The customer's history page asks the apps above for their part of the customer's history
# (routing: recordings and their quality reviews). kwargs: customer, request (the viewer, the
# active agent in ``request.agent``). Each receiver answers HTML to show, or "" for nothing.
customer_history_sections = Signal()

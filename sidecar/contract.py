"""The words of the Odoo contract (docs/rpc-contract.md) that every protocol's mapper maps to.

Odoo (``nordic_dunning_collection``) defines them with the collection case: its states and the kinds of change
it can apply. It validates everything it receives against its own definition and quarantines the rest.
tests/test_e2e_sync.py holds the states and actions to the real Odoo's selections, and its lifecycle (every
kind, a registration answered "collection_active") to what the real Odoo applies.
"""

# The states an agency's report may put a case in (the case's own selection, without Odoo's outbox states and
# its cancellation).
CASE_STATES = ("submitted", "active", "paused", "paid", "partly_paid", "surveillance", "failed", "withdrawn")
# The states a case may be in once an agency has registered it: collection starts, or is held.
REGISTERED_STATES = ("submitted", "active", "paused")
# What a change can be: the case's state, a payment to us, the agency's fee or interest, a debtor's dispute.
CHANGE_KINDS = ("state", "payment", "fee", "interest", "dispute")
# What Odoo can ask an agency to do with a case (its commands' actions).
COMMAND_ACTIONS = ("pause", "resume", "withdraw", "dispute_answer", "creditor_payment")

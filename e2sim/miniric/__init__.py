"""A mini near-RT RIC for local runs and tests: Subscription Manager REST API + E2T routing.

An OSC-style xApp cannot tell it from the platform for the flows it uses: it subscribes
with ``POST /ric/v1/subscriptions``, gets the submgr's notification callback, and receives
RIC indications over RMR with the E2 instance id as sub_id.
"""

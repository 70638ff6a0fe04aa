"""Subscribing to E2 nodes through the RIC Subscription Manager REST API (PROTOCOLS.md s. 2)."""

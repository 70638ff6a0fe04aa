"""Telemetry: the InfluxDB vocabulary (:mod:`.names`) and the Grafana dashboard builder."""

"""The xApp's HTTP surface (PROTOCOLS.md section 8): health, config, metrics, dashboard."""

"""The simulated E2 node: its E2AP agent and the cells whose reports it sends."""

"""What the xApp is allowed to recommend: the A1 policy and the decision policy layer."""

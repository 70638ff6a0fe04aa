"""LinkFM xApp: link-adaptation recommendations (rank, PMI, beam) for O-RAN near-RT RICs."""

__version__ = "0.1.0"

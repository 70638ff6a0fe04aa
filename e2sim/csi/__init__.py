"""CSI computation for the simulator: Type-I codebook, RI/PMI/CQI selection, beams, SVD.

Inputs are noise-whitened channels ``H: [..., n_sb, n_rx, n_tx]`` complex64 (noise variance
1 per receive antenna), 3GPP port order. Nothing here depends on how the channel was made.
``beams`` imports Sionna lazily (only when a grid is built).
"""

from e2sim.csi.beams import BeamSelection, DftBeamGrid, beam_rsrp_db, select_beams
from e2sim.csi.codebook import PmiRanges, TypeICodebook
from e2sim.csi.cqi import (
    CQI_TABLE_1,
    CQI_TABLE_2,
    CqiEntry,
    CqiReport,
    cqi_efficiency,
    cqi_from_sinr_db,
    cqi_report,
    cqi_spectral_efficiency,
    cqi_table,
    differential_cqi,
    effective_sinr,
    sinr_thresholds_db,
    subband_cqi_from_differential,
)
from e2sim.csi.report import UeCsi, compute_csi
from e2sim.csi.selection import (
    CsiSelection,
    layer_sinr,
    lookup_subband_se,
    precoder_subband_se,
    se_of,
    select_csi,
    select_from_tables,
    subband_se,
    subband_se_of,
    subband_se_tables,
)
from e2sim.csi.svd import svd_precoder, svd_se

__all__ = [
    "CQI_TABLE_1",
    "CQI_TABLE_2",
    "BeamSelection",
    "CqiEntry",
    "CqiReport",
    "CsiSelection",
    "DftBeamGrid",
    "PmiRanges",
    "TypeICodebook",
    "UeCsi",
    "beam_rsrp_db",
    "compute_csi",
    "cqi_efficiency",
    "cqi_from_sinr_db",
    "cqi_report",
    "cqi_spectral_efficiency",
    "cqi_table",
    "differential_cqi",
    "effective_sinr",
    "layer_sinr",
    "lookup_subband_se",
    "precoder_subband_se",
    "se_of",
    "select_beams",
    "select_csi",
    "select_from_tables",
    "sinr_thresholds_db",
    "subband_cqi_from_differential",
    "subband_se",
    "subband_se_of",
    "subband_se_tables",
    "svd_precoder",
    "svd_se",
]

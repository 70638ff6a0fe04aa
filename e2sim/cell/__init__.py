"""A simulated cell: CSI reports from Sionna channels, PF-scheduler KPM, closed-loop scoring.

``Cell(CellConfig(...)).step()`` gives a `CellStep` per report period; ``apply()`` takes the
xApp's recommendations; ``scoreboard()`` says what they were worth (RADIO.md sections 6-7).
"""

from e2sim.cell.cell import ApplyResult, Cell, CellStep
from e2sim.cell.config import BEAM_GRID_SIZES, CellConfig, default_cell_id
from e2sim.cell.scheduler import CELL_KPM_NAMES, UE_KPM_NAMES, WB_CQI_DIST
from e2sim.cell.scoring import StepScores
from e2sim.cell.ue_csi import UeCsi

__all__ = ["BEAM_GRID_SIZES", "CELL_KPM_NAMES", "UE_KPM_NAMES", "WB_CQI_DIST", "ApplyResult",
           "Cell", "CellConfig", "CellStep", "StepScores", "UeCsi", "default_cell_id"]

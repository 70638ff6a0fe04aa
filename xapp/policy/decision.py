"""The decision layer: what is actually recommended, given a prediction and the policy.

Rules, in order (the A1 :class:`~xapp.policy.a1.LinkPolicy` in force, plus the xApp's own
controls: cells disabled locally and a local rank cap):

1. the cell is disabled (A1 ``cells``/``enabled`` or ``controls.disabled_cells``) -> the
   UE-reported values, reason FALLBACK;
2. no prediction (the classical policy without a channel estimate, a failed batch) ->
   FALLBACK;
3. rank or PMI confidence below the policy's minimum -> FALLBACK (rank and PMI go
   together: a PMI only means something at its rank);
4. otherwise the prediction. Its reason is POLICY when the rank had to be capped by
   ``max_rank`` or the beam was replaced by the reported one because its confidence was
   below ``min_confidence_beam``; MODEL when it went through untouched.

A FALLBACK needs UE-reported CSI fields; without them nothing is recommended (None).
A reported rank above the cap is passed through unchanged: it is the UE's own report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from xapp.decide.predictor import Prediction
from xapp.e2.csi_types import NrCgi
from xapp.e2.recommendation import Confidence, Reason, Recommendation
from xapp.ingest.pipeline import UeMeta
from xapp.ingest.windows import UeKey
from xapp.policy.a1 import LinkPolicy

NO_CONFIDENCE = Confidence(0.0, 0.0, 0.0)


def cell_name(cell: NrCgi) -> str:
    """A cell's id as A1 policies and controls name it: ``<PLMN hex>-<NR cell id>``,
    e.g. ``00f110-305419896``."""
    return f"{cell.plmn_id.hex()}-{cell.nr_cell_identity}"


@dataclass
class DecisionPolicy:
    """Applies the rules of the module docstring.

    Attributes:
        policy: the A1 policy in force (replace on every A1 change).
        disabled_cells: cells disabled by local configuration (``cell_name`` strings).
        max_rank: local rank cap (the stricter of this and the policy's wins).
        validity_ms: how long a recommendation stays valid after it applies.
    """

    policy: LinkPolicy = field(default_factory=LinkPolicy)
    disabled_cells: frozenset[str] = frozenset()
    max_rank: int = 8
    validity_ms: int = 20

    def rank_cap(self) -> int:
        return min(self.max_rank, self.policy.max_rank)

    def cell_enabled(self, cell: NrCgi) -> bool:
        name = cell_name(cell)
        return name not in self.disabled_cells and self.policy.cell_enabled(name)

    def decide(self, key: UeKey, meta: UeMeta, prediction: Prediction | None,
               model_version: str) -> Recommendation | None:
        """The recommendation for one UE, or None when there is nothing to recommend."""
        policy = self.policy
        confident = prediction is not None and (
            prediction.confidence.rank >= policy.min_confidence_rank
            and prediction.confidence.pmi >= policy.min_confidence_pmi)
        if prediction is None or not confident or not self.cell_enabled(meta.cell):
            return self._fallback(key, meta, prediction, model_version)
        beam, reason = prediction.beam_index, Reason.MODEL
        beam_conf = prediction.confidence.beam
        if beam is not None and beam_conf < policy.min_confidence_beam:
            beam = meta.reported.beam_index if meta.reported else None
            reason = Reason.POLICY
        if prediction.rank_capped:
            reason = Reason.POLICY
        return Recommendation(
            e2_node=key.meid, cell=meta.cell, ue_id=key.ue_id,
            apply_from_slot=self._apply_from(meta), validity_ms=self.validity_ms,
            rank=prediction.rank, pmi=prediction.pmi,
            confidence=_clean(prediction.confidence, beam is not None),
            model_version=model_version, reason=reason, beam_index=beam,
            replaces=meta.reported)

    def _fallback(self, key: UeKey, meta: UeMeta, prediction: Prediction | None,
                  model_version: str) -> Recommendation | None:
        reported = meta.reported
        if reported is None:
            return None
        confidence = NO_CONFIDENCE if prediction is None else _clean(
            prediction.confidence, reported.beam_index is not None)
        return Recommendation(
            e2_node=key.meid, cell=meta.cell, ue_id=key.ue_id,
            apply_from_slot=self._apply_from(meta), validity_ms=self.validity_ms,
            rank=reported.rank, pmi=reported.pmi, confidence=confidence,
            model_version=model_version, reason=Reason.FALLBACK,
            beam_index=reported.beam_index, replaces=reported)

    def _apply_from(self, meta: UeMeta) -> int:
        """The report slot plus the policy's horizon, in slots of the cell."""
        return meta.report_slot + math.ceil(self.policy.horizon_ms / meta.slot_ms)


def _clean(confidence: Confidence, has_beam: bool) -> Confidence:
    """Confidences inside [0, 1] (float rounding) and beam 0 when no beam is sent."""
    def clip(x: float) -> float:
        return min(max(x, 0.0), 1.0) if math.isfinite(x) else 0.0
    return Confidence(clip(confidence.rank), clip(confidence.pmi),
                      clip(confidence.beam) if has_beam else 0.0)

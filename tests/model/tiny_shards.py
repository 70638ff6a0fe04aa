"""Tiny dataset shards for the training-pipeline tests (well under a second each)."""

from __future__ import annotations

from pathlib import Path

from e2sim.dataset import ShardSpec, write_shard

# (family, seed): two 4-port families, a 2-port and an 8-port one (different padding)
TINY_FAMILIES = (("umi-vehicular", 101), ("uma-vehicular", 102), ("umi-2port", 103),
                 ("umi-8port", 104))


def write_tiny_dataset(out: Path, n_ues: int = 4, n_reports: int = 12, window: int = 4,
                       families: tuple[tuple[str, int], ...] = TINY_FAMILIES) -> Path:
    """Write one shard per family into ``out`` (no manifest); returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for i, (family, seed) in enumerate(families):
        spec = ShardSpec(i, family, seed=seed, n_ues=n_ues, n_reports=n_reports,
                         window=window, stride=2, channel_estimate=True)
        write_shard(spec, out)
    return out

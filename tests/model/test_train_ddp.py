"""Data-parallel pretraining: torchrun with two CPU processes on gloo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.checkpoint import load_checkpoint
from model.network import LinkFMConfig
from model.trainer import parameter_digest
from tests.conftest import REPO_ROOT, free_port, require
from tests.model.tiny_shards import write_tiny_dataset

CFG = LinkFMConfig(d_model=16, n_layers=2, n_heads=2, d_feature_emb=4, n_slots=3,
                   early_exit_layers=(1,))
DONE = re.compile(r"\[rank (\d)/2\] done: step (\d+) loss \S+ weights sha256 ([0-9a-f]{64})")


def test_two_gloo_ranks_train_in_step_and_rank_0_writes(tmp_path: Path) -> None:
    import torch.distributed as dist

    require(dist.is_available() and dist.is_gloo_available(), "torch.distributed with gloo")
    data = write_tiny_dataset(tmp_path / "data", n_ues=8, n_reports=16)
    out = tmp_path / "ckpt"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
           "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()),
           "-m", "model.train_cli", "pretrain", "--data", str(data), "--out", str(out),
           "--steps", "6", "--batch", "16", "--log-every", "2", "--no-progress",
           "--config", json.dumps(CFG.to_dict())]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    logs = proc.stdout + proc.stderr
    assert proc.returncode == 0, logs[-3000:]
    # both ranks ran every step (rank 1 logs its own progress)
    assert "[rank 1/2] step 6 loss" in logs
    done = {int(r): (int(step), digest) for r, step, digest in DONE.findall(logs)}
    assert set(done) == {0, 1}, logs[-3000:]
    assert done[0][0] == done[1][0] == 6
    assert done[0][1] == done[1][1], "the ranks' weights differ after training"
    ck = load_checkpoint(out, expected_config=CFG)
    assert parameter_digest(ck.model) == done[0][1]
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    starts = [r for r in records if r["event"] == "start"]
    assert len(starts) == 1 and starts[0]["world"] == 2  # one writer
    # each rank took half of the 210 training windows per epoch: 105 // 16 = 6 steps
    assert starts[0]["steps_per_epoch"] == 6
    assert ck.eval_summary["pretrain"]["world"] == 2


@pytest.mark.parametrize("world", [2, 3])
def test_each_rank_gets_a_disjoint_equal_share(world: int) -> None:
    from model.data import epoch_order

    shares = [set(epoch_order(50, 0, 0, r, world).tolist()) for r in range(world)]
    assert len({len(s) for s in shares}) == 1
    assert sum(len(s) for s in shares) == 50 - 50 % world
    for i in range(world):
        for j in range(i + 1, world):
            assert not shares[i] & shares[j]

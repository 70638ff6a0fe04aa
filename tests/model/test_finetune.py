"""Fine-tuning modes train exactly the parameters they should, and LoRA merges losslessly."""

from __future__ import annotations

import torch

from model.finetune import FinetuneMode, prepare_finetune
from model.lora import LoRALinear, merge_lora
from model.losses import supervised_loss
from model.network import LinkFM

from .conftest import SMALL, make_batch


def _fresh() -> LinkFM:
    torch.manual_seed(0)
    return LinkFM(SMALL).train()


def _one_step(model: LinkFM, params: list[torch.nn.Parameter]) -> dict[str, torch.Tensor]:
    """Snapshot of every state entry, then one optimiser step on the trainables."""
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _, _, b, y = make_batch(model, batch=8)
    loss, _ = supervised_loss(model(b, rank=y.rank), y)
    opt = torch.optim.SGD(params, lr=0.1)
    loss.backward()
    opt.step()
    return before


def _changed(model: LinkFM, before: dict[str, torch.Tensor]) -> set[str]:
    return {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}


def test_lora_trains_only_adapter_matrices() -> None:
    model = _fresh()
    params = prepare_finetune(model, FinetuneMode.LORA)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith(("lora_a", "lora_b")) for n in trainable)
    assert len(params) == len(trainable)
    before = _one_step(model, params)
    changed = _changed(model, before)
    assert changed and all(k.endswith(("lora_a", "lora_b")) for k in changed)


def test_lora_wraps_attention_and_ffn_linears_of_every_block() -> None:
    model = _fresh()
    prepare_finetune(model, FinetuneMode.LORA)
    wrapped = [n for n, m in model.named_modules() if isinstance(m, LoRALinear)]
    assert len(wrapped) == 4 * SMALL.n_layers


def test_fresh_adapters_do_not_change_the_outputs() -> None:
    model = _fresh().eval()
    _, _, b, _ = make_batch(model, batch=4)
    before = model(b).heads.rank_logits.detach()
    prepare_finetune(model, FinetuneMode.LORA)
    assert torch.equal(model(b).heads.rank_logits.detach(), before)


def test_merged_adapters_compute_the_same_function_as_a_plain_model() -> None:
    model = _fresh()
    params = prepare_finetune(model, FinetuneMode.LORA)
    _one_step(model, params)
    model.eval()
    _, _, b, _ = make_batch(model, batch=4, seed=3)
    adapted = model(b).heads.beam_logits.detach()
    merge_lora(model)
    plain = LinkFM(SMALL).eval()
    plain.load_state_dict(model.state_dict())
    assert torch.allclose(plain(b).heads.beam_logits.detach(), adapted, atol=1e-5)


def test_probe_trains_only_the_task_heads() -> None:
    model = _fresh()
    params = prepare_finetune(model, FinetuneMode.PROBE)
    before = _one_step(model, params)
    changed = _changed(model, before)
    assert changed and all(k.startswith(("heads.", "exit_heads.")) for k in changed)


def test_full_mode_trains_the_encoder_too() -> None:
    model = _fresh()
    params = prepare_finetune(model, FinetuneMode.FULL)
    before = _one_step(model, params)
    assert any(k.startswith("blocks.") for k in _changed(model, before))

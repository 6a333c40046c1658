"""Weight-space modules: merged outputs equal unmerged ones, unmerge restores the weights, eval() never merges."""

import pytest
import torch

from matrix import catalogue
from peftref_kb.reference import instantiate
from peftref_kb.reference.inject import adapter_parameters
from peftref_kb.reference.modules import CompositionError

from tiny_models import ARCHITECTURES, build, inputs, small_hyperparameters

MERGEABLE = ["lora", "krona", "ia3", "dora", "vera", "loha", "lokr", "oft", "adalora"]


def _randomise(model, method_id):
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for param in adapter_parameters(model, method_id).values():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))


def _setup(method_id, arch):
    method = catalogue()[method_id]
    model = build(arch)
    hp = {k: v for c in method.components for k, v in small_hyperparameters(c).items()}
    report = instantiate(method, model, **hp)
    _randomise(model, method_id)
    return model, report


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("method_id", MERGEABLE)
def test_merge_equals_unmerged_and_unmerge_restores(method_id, arch):
    model, report = _setup(method_id, arch)
    added = {id(p) for p in adapter_parameters(model, method_id).values()}
    base = {n: p.detach().clone() for n, p in model.named_parameters() if id(p) not in added}
    batch = inputs(arch)
    with torch.no_grad():
        unmerged = model(**batch).last_hidden_state
        model.train()
        model.eval()  # eval() must not merge
        assert all(not m.merged for m in report.handle.mergeable_modules())
        assert all(torch.equal(p, base[n]) for n, p in model.named_parameters() if n in base)
        report.merge()
        changed = [n for n, p in model.named_parameters() if n in base and not torch.equal(p, base[n])]
        assert changed, "merge changed no base weight"
        merged = model(**batch).last_hidden_state
        torch.testing.assert_close(merged, unmerged, rtol=1e-4, atol=1e-5)
        report.unmerge()
        for name, param in model.named_parameters():
            if name in base:
                torch.testing.assert_close(param, base[name], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(model(**batch).last_hidden_state, unmerged, rtol=1e-4, atol=1e-5)


def test_gpt2_lora_merges_into_the_q_and_v_columns_of_c_attn_only():
    model, report = _setup("lora", "gpt2")
    before = model.h[0].attn.c_attn.weight.detach().clone()  # Conv1D: (d, 3d)
    report.merge()
    after = model.h[0].attn.c_attn.weight.detach()
    changed_columns = (after != before).any(dim=0)
    assert changed_columns[:32].all() and not changed_columns[32:64].any() and changed_columns[64:].all()


@pytest.mark.parametrize("method_id", ["krona-res", "unipelt", "houlsby-adapter"])
def test_activation_space_modules_refuse_to_merge(method_id):
    model, report = _setup(method_id, "bert")
    with pytest.raises(CompositionError, match="cannot merge"):
        report.merge()


def test_remove_restores_the_base_model():
    model = build("llama")
    batch = inputs("llama")
    with torch.no_grad():
        before = model(**batch).last_hidden_state
    names = [n for n, _ in model.named_parameters()]
    report = instantiate(catalogue()["mam-adapter"], model, l=3, r=4, reparam_hidden=8)
    _randomise(model, "mam-adapter")
    report.remove()
    assert [n for n, _ in model.named_parameters()] == names
    assert all(p.requires_grad for p in model.parameters())
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).last_hidden_state, before, rtol=0, atol=0)

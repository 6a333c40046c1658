"""The contract matrix: every executable record × every architecture variant, through the same checks.

- trainable and stored counts equal the record's parameter_count formulas (evaluated with the safe evaluator);
- identity at init where every module of the record starts as the identity (LoRA, adapters with a zero
  up-projection, IA3's ones, parameter selection);
- after one optimizer step the base weights are bit-identical (except a selected group) and only method
  parameters moved; the model still runs forward and backward.
"""

import pytest
import torch

from matrix import catalogue
from peftref_kb.reference import instantiate
from peftref_kb.reference.inject import adapter_parameters
from peftref_kb.reference.positions import PositionError



from peftref_kb.schema.formula import evaluate

from matrix import cases, expected_unsupported
from tiny_models import build, inputs, small_hyperparameters


def _hyperparameters(method):
    return {k: v for c in method.components for k, v in small_hyperparameters(c).items()}


def _output(model, arch):
    out = model(**inputs(arch))
    return out.last_hidden_state


@pytest.mark.parametrize("method_id,arch", cases())
def test_contract(method_id, arch):
    method = catalogue()[method_id]
    model = build(arch)
    unsupported = expected_unsupported(method, arch)
    if unsupported:
        with pytest.raises(PositionError):
            instantiate(method, model, **_hyperparameters(method))
        return
    with torch.no_grad():
        before = _output(model, arch)
    base = {n: p.detach().clone() for n, p in model.named_parameters()}
    report = instantiate(method, model, **_hyperparameters(method))

    # counts: the modules hold exactly what the record's formulas say
    for component in report.components:
        formula, formula_stored = component.formula_params, component.formula_stored_params
        assert formula == component.trainable_params, (component.id, "trainable", formula, component.trainable_params)
        assert formula_stored == component.stored_params, (component.id, "stored", formula_stored, component.stored_params)
    assert report.trainable_params == sum(c.trainable_params for c in report.components)
    assert report.base_params == sum(base[n].numel() for n in base)

    # identity at init, where the paper initialises to identity
    identity = all(type(i_module).identity_at_init for i_module in report.handle.modules)
    with torch.no_grad():
        after = _output(model, arch)
    if identity:
        torch.testing.assert_close(after, before, rtol=0, atol=1e-6)
    else:
        assert not torch.allclose(after.float()[..., -before.shape[1]:, :] if after.shape != before.shape else after, before)

    # one optimizer step: only method parameters change
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable
    start = {n: p.detach().clone() for n, p in trainable.items()}
    optimizer = torch.optim.Adam(trainable.values(), lr=1e-2)  # Adam: every parameter with a gradient moves by ~lr
    output = _output(model, arch)
    loss = (output * torch.randn(output.shape, generator=torch.Generator().manual_seed(2))).sum()
    loss.backward()
    optimizer.step()
    selected = {n for n in trainable if n in base}
    for name, param in model.named_parameters():
        if name in base and name not in selected:
            assert torch.equal(param, base[name]), f"base weight {name} changed"
    moved = [n for n, p in trainable.items() if not torch.equal(p, start[n])]
    assert moved, "no method parameter moved"
    added = {id(p) for p in adapter_parameters(model, method.id).values()}
    assert all(id(trainable[n]) in added or n in selected for n in moved)

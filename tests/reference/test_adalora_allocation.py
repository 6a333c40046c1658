"""AdaLoRA's training-time parts (the contract matrix covers forward, merge and counts): a short training run with the
orthogonality regulariser and the rank allocator ends at the target budget, and the stored count follows the kept ranks."""

import torch

from matrix import catalogue
from peftref_kb.reference import instantiate
from peftref_kb.reference.modules import RankAllocator, budget_schedule, orthogonality_regulariser

from tiny_models import build, inputs


def test_budget_schedule_is_cubic_between_warm_up_and_final_phase():
    schedule = [budget_schedule(t, 120, 80, tinit=2, tfinal=3, total_step=12) for t in range(13)]
    assert schedule[:3] == [120, 120, 120] and schedule[9:] == [80, 80, 80, 80]
    assert schedule[3] == int(80 + 40 * (1 - 1 / 7) ** 3)
    assert all(a >= b for a, b in zip(schedule, schedule[1:]))


def test_training_with_the_allocator_ends_at_the_target_budget():
    model = build("llama")
    report = instantiate(catalogue()["adalora"], model, init_r=4, alpha=8, at=["attn.q", "attn.v"])
    modules = report.handle.modules
    allocator = RankAllocator.from_model(model, target_r=2, total_step=8, tinit=1, tfinal=2, delta_t=1)
    assert {id(m) for m in allocator.modules} == {id(m) for m in modules} and len(allocator.modules) == len(modules)
    assert allocator.init_budget == 4 * len(modules)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch, weights = inputs("llama"), torch.randn(2, 5, 32, generator=torch.Generator().manual_seed(2))
    for step in range(1, 9):
        loss = (model(**batch).last_hidden_state * weights).sum() + 0.5 * orthogonality_regulariser(modules)
        loss.backward()
        optimizer.step()
        budget = allocator.step(step)
        optimizer.zero_grad()
        if step > allocator.tinit:
            assert sum(m.rank for m in modules) == budget
    assert budget == 2 * len(modules)
    for module in modules:  # the final phase keeps the pattern: pruned values stay zero
        assert torch.all(module.singular_values[~module.rank_mask] == 0)
    assert report.handle.modules[0].stored_parameter_count() == modules[0].rank * (32 + 32 + 1)
    assert sum(m.stored_parameter_count() for m in modules) == 2 * len(modules) * (32 + 32 + 1)  # equal shapes: target_r per matrix

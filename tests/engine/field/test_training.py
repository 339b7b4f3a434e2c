"""The one training loop (engine.field.training) on a tiny least-squares problem."""

import math

import pytest
import torch
from torch import nn

from engine.field.training import Training, cosine_with_warmup

CPU = torch.device("cpu")
POOL = torch.randn(256, 3, generator=torch.Generator().manual_seed(5))
TARGETS = POOL @ torch.tensor([1.5, -2.0, 0.5]) + 0.25


def linear_model() -> nn.Linear:
    torch.manual_seed(0)
    return nn.Linear(3, 1)


def squared_error(model: nn.Linear):
    return lambda index: ((model(POOL[index]).squeeze(1) - TARGETS[index]) ** 2).mean()


def trained(seed: int = 0, runs: tuple[int, ...] = (100,), progress=None) -> tuple[nn.Linear, Training]:
    model = linear_model()
    training = Training(model, sum(runs), batch_size=32, learning_rate=0.2, seed=seed, device=CPU,
                        progress=progress)
    for steps in runs:
        training.run(steps, len(POOL), squared_error(model))
    return model, training


def pool_loss(model: nn.Linear) -> float:
    with torch.no_grad():
        return float(squared_error(model)(torch.arange(len(POOL))))


def test_the_loop_decreases_the_loss():
    before = pool_loss(linear_model())
    model, training = trained()
    assert training.done == 100
    assert pool_loss(model) < 0.01 * before
    assert 0.0 <= training.final_loss < 0.01 * before


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not():
    first, first_training = trained(seed=3)
    second, second_training = trained(seed=3)
    other, _ = trained(seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True))
    assert first_training.final_loss == second_training.final_loss
    assert not torch.equal(first.weight, other.weight)


def test_runs_on_several_pools_carry_the_optimiser_and_the_schedule_on():
    whole, whole_training = trained(runs=(100,))
    split, split_training = trained(runs=(37, 0, 63))
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), split.parameters(), strict=True))
    assert split_training.done == 100 and split_training.final_loss == whole_training.final_loss


def test_progress_comes_every_ten_steps_and_reaches_one():
    fractions = []
    trained(runs=(25, 15), progress=fractions.append)
    assert fractions == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert fractions[-1] == 1.0


def test_final_loss_is_nan_before_any_step():
    model = linear_model()
    training = Training(model, 0, batch_size=8, learning_rate=0.1, seed=0, device=CPU)
    training.run(0, len(POOL), squared_error(model))
    assert math.isnan(training.final_loss)
    assert torch.equal(model.weight, linear_model().weight)


def test_the_schedule_warms_up_then_falls_to_its_floor():
    factor = cosine_with_warmup(100, warmup=20, floor=0.02)
    assert factor(0) == pytest.approx(1 / 20) and factor(19) == pytest.approx(1.0)
    assert factor(20) == pytest.approx(1.0) and factor(60) == pytest.approx(0.51)
    assert factor(100) == pytest.approx(0.02) and factor(500) == pytest.approx(0.02)
    values = [factor(step) for step in range(20, 101)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_adam_is_torch_adam_with_the_schedule_bit_for_bit():
    """The engine's own Adam (no torch.optim, whose first step imports torch._dynamo) changes no weight."""
    ours, theirs = linear_model(), linear_model()
    optimiser = torch.optim.Adam(theirs.parameters(), lr=0.2)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, cosine_with_warmup(60))
    loss = squared_error(theirs)
    for step in range(60):
        optimiser.zero_grad()
        loss(torch.arange(step % 7, len(POOL), 3)).backward()
        optimiser.step()
        schedule.step()
    training = Training(ours, 60, batch_size=32, learning_rate=0.2, seed=0, device=CPU)
    ours_loss = squared_error(ours)
    for step in range(60):
        ours_loss(torch.arange(step % 7, len(POOL), 3)).backward()
        training.optimiser.step(0.2 * training.schedule(step))
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters(), strict=True))

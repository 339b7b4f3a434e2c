"""The one training loop of every fit: Adam, a warm-up cosine schedule, seeded random batches.

The global SDF fit and the per-part fit differ only in their pools of
training points and in their losses. A fit builds one ``Training`` for its
whole run and calls ``Training.run`` once per pool of points, so the
optimiser's moments, the schedule and the batch generator carry on from one
pool to the next.

Adam is written out here (``AdamMoments``) rather than taken from
``torch.optim``: torch's optimisers import ``torch._dynamo`` on their first
step, 1.6 s of every engine start on this machine (docs/design.md, "Speed").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

ProgressCallback = Callable[[float], None]
BatchLoss = Callable[[torch.Tensor], torch.Tensor]
"""Maps (b,) int64 row indices into the current pool to a scalar loss tensor."""

PROGRESS_EVERY = 10


def cosine_with_warmup(iterations: int, warmup: int = 20, floor: float = 0.02) -> Callable[[int], float]:
    """Learning-rate factor of step ``step``: linear warm-up, then a cosine from 1 down to ``floor``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, iterations - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class AdamMoments:
    """Adam (Kingma and Ba; torch.optim.Adam's update without weight decay) over a model's parameters."""

    def __init__(self, parameters: list[nn.Parameter], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.parameters = parameters
        self.betas, self.eps = betas, eps
        self.first = [torch.zeros_like(p) for p in parameters]
        self.second = [torch.zeros_like(p) for p in parameters]
        self.steps = 0

    @torch.no_grad()
    def step(self, learning_rate: float) -> None:
        """One update from the parameters' ``.grad``; gradients are then cleared."""
        self.steps += 1
        beta1, beta2 = self.betas
        first_correction = 1.0 - beta1**self.steps
        second_root = (1.0 - beta2**self.steps) ** 0.5
        for parameter, first, second in zip(self.parameters, self.first, self.second, strict=True):
            gradient = parameter.grad
            first.lerp_(gradient, 1.0 - beta1)
            second.mul_(beta2).addcmul_(gradient, gradient, value=1.0 - beta2)
            denominator = (second.sqrt() / second_root).add_(self.eps)
            parameter.addcdiv_(first, denominator, value=-learning_rate / first_correction)
            parameter.grad = None


class Training:
    """``iterations`` Adam steps on ``model``, spread over one or more ``run`` calls.

    Each step draws ``batch_size`` row indices uniformly (with replacement)
    from a CPU generator seeded with ``seed``, so the batches depend on the
    seed alone, whatever the device. ``progress`` receives the done fraction
    every ``PROGRESS_EVERY`` steps.
    """

    def __init__(
        self,
        model: nn.Module,
        iterations: int,
        batch_size: int,
        learning_rate: float,
        seed: int,
        device: torch.device,
        progress: ProgressCallback | None = None,
    ):
        self.iterations = iterations
        self.batch_size = batch_size
        self.device = device
        self.progress = progress
        self.learning_rate = learning_rate
        self.schedule = cosine_with_warmup(iterations)
        self.optimiser = AdamMoments([p for p in model.parameters() if p.requires_grad])
        self.generator = torch.Generator(device="cpu").manual_seed(seed)
        self.done = 0
        self._last_loss: torch.Tensor | None = None

    def run(self, steps: int, pool_size: int, loss_of_batch: BatchLoss) -> None:
        """Take ``steps`` optimiser steps on batches of rows of a pool of ``pool_size`` points."""
        for _ in range(steps):
            index = torch.randint(pool_size, (self.batch_size,), generator=self.generator).to(self.device)
            loss = loss_of_batch(index)
            loss.backward()
            self.optimiser.step(self.learning_rate * self.schedule(self.done))
            self.done += 1
            if self.progress is not None and self.done % PROGRESS_EVERY == 0:
                self.progress(self.done / self.iterations)
            self._last_loss = loss.detach()

    @property
    def final_loss(self) -> float:
        """The loss of the last step taken (NaN before any step)."""
        return math.nan if self._last_loss is None else float(self._last_loss)

"""Test-time latent optimisation: the code under which the frozen backbone best fits a new mesh's SDF.

DeepSDF's inference (Park et al. 2019, section 4.2; seed 002 section 3.4): the decoder stays fixed and
only a latent code is optimised against the mesh's signed distance samples, with the same clamped L1
loss and Gaussian code prior as in training. A few hundred steps replace a per-mesh fit from nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from ..field.training import AdamMoments, cosine_with_warmup
from .model import LatentDecoder


def clamped_l1(predicted: torch.Tensor, target: torch.Tensor, clamp: float) -> torch.Tensor:
    """Mean |clamp(predicted) - clamp(target)| (DeepSDF's loss), (b,) and (b,) -> scalar."""
    return (predicted.clamp(-clamp, clamp) - target.clamp(-clamp, clamp)).abs().mean()


def fit_latent(
    decoder: LatentDecoder,
    points: torch.Tensor,
    distances: torch.Tensor,
    steps: int = 300,
    batch_size: int = 4096,
    learning_rate: float = 5e-3,
    clamp: float = 0.1,
    prior: float = 1e-4,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """(latent_size,) code fitted to (n, 3) unit-cube ``points`` and their (n,) signed ``distances``.

    Starts from zero (the prior's mean); ``prior`` weighs the squared norm of the code. The decoder's
    weights are not changed. Tensors are on the decoder's device.
    """
    for parameter in decoder.parameters():
        parameter.requires_grad_(False)
    code = torch.zeros(decoder.settings.latent_size, device=points.device, requires_grad=True)
    _adam_steps([code], lambda rows: clamped_l1(decoder(points[rows], code.expand(len(rows), -1)), distances[rows],
                                                clamp) + prior * code.square().sum(),
                len(points), steps, batch_size, learning_rate, seed, progress)
    return code.detach()


def fine_tune(
    decoder: LatentDecoder,
    code: torch.Tensor,
    points: torch.Tensor,
    distances: torch.Tensor,
    steps: int = 200,
    batch_size: int = 4096,
    learning_rate: float = 2e-4,
    clamp: float = 0.1,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> LatentDecoder:
    """A copy of ``decoder`` whose weights are trained for ``steps`` more on one shape's samples, its
    ``code`` fixed (the short fine-tune after the latent of seed 002 section 3.4, for what the shared
    decoder cannot represent: thin parts, fine detail). ``decoder`` itself is not changed.

    The copy's activations drift from the shared space the head was trained in; ``python -m bench
    backbone`` measures what that costs the features against what it gains the SDF.
    """
    tuned = copy.deepcopy(decoder)
    parameters = list(tuned.parameters())
    for parameter in parameters:
        parameter.requires_grad_(True)
    codes = code.detach()
    _adam_steps(parameters, lambda rows: clamped_l1(tuned(points[rows], codes.expand(len(rows), -1)),
                                                    distances[rows], clamp),
                len(points), steps, batch_size, learning_rate, seed + 1, progress)
    for parameter in parameters:
        parameter.requires_grad_(False)
    return tuned.eval()


def _adam_steps(parameters: list[torch.Tensor], batch_loss: Callable[[torch.Tensor], torch.Tensor], rows: int,
                steps: int, batch_size: int, learning_rate: float, seed: int,
                progress: Callable[[float], None] | None) -> None:
    """``steps`` Adam updates of ``parameters`` (warm-up cosine) on ``batch_loss`` of random row indices
    (``batch_size`` of ``rows``, drawn from a CPU generator seeded with ``seed``)."""
    optimiser = AdamMoments(parameters)
    schedule = cosine_with_warmup(steps, warmup=10)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    device = parameters[0].device
    for step in range(steps):
        batch_loss(torch.randint(rows, (min(batch_size, rows),), generator=generator).to(device)).backward()
        optimiser.step(learning_rate * schedule(step))
        if progress is not None and (step + 1) % 10 == 0:
            progress((step + 1) / steps)

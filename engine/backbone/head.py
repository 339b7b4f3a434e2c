"""The DINO projection head (seed 001 section 3.4): backbone activations -> part features and prototypes.

Input: the backbone's hidden activations at a point, concatenated over layers and standardised with the
statistics of the training cache (saved with the head). Output: an l2-normalised ``features``-dim part
feature and ``prototypes`` logits (a weight-normalised last layer, as in DINO); the arg-max prototype is
a part type shared by every mesh the backbone reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class HeadSettings:
    """Sizes of the head; saved as JSON beside its weights."""

    inputs: int = 768
    hidden: int = 256
    features: int = 64
    prototypes: int = 32

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class ProjectionHead(nn.Module):
    """``(n, inputs)`` activations -> ``(n, features)`` unit features and ``(n, prototypes)`` logits."""

    def __init__(self, settings: HeadSettings):
        super().__init__()
        self.settings = settings
        self.register_buffer("mean", torch.zeros(settings.inputs))
        self.register_buffer("std", torch.ones(settings.inputs))
        self.mlp = nn.Sequential(
            nn.Linear(settings.inputs, settings.hidden), nn.GELU(), nn.LayerNorm(settings.hidden),
            nn.Linear(settings.hidden, settings.hidden // 2), nn.GELU(), nn.LayerNorm(settings.hidden // 2),
            nn.Linear(settings.hidden // 2, settings.features),
        )
        self.prototypes = nn.utils.parametrizations.weight_norm(
            nn.Linear(settings.features, settings.prototypes, bias=False))

    def features(self, activations: torch.Tensor) -> torch.Tensor:
        """(n, inputs) -> (n, features), each row of unit length."""
        return nn.functional.normalize(self.mlp((activations - self.mean) / self.std), dim=1)

    def forward(self, activations: torch.Tensor) -> torch.Tensor:
        """(n, inputs) -> (n, prototypes) logits."""
        return self.prototypes(self.features(activations))

"""The backbone bound to one shape: the same interface as a per-mesh ``SDFDecoder``.

``CodedDecoder`` takes points in the engine's unit cube (longest side 1), maps them into the backbone's
training frame (shapes within a ball of radius ``TRAINING_RADIUS``), and returns distances in engine
units, so probing, thickness and segmentation read it as they read a per-mesh field.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .model import LatentDecoder

TRAINING_RADIUS = 0.4
"""Backbone-frame radius a mesh is scaled to (collection shapes span 0.32-0.45, docs/backbone.md)."""


def frame_scale(unit_vertices: np.ndarray) -> float:
    """Factor from engine unit-cube coordinates (n, 3) to the backbone's frame: farthest vertex at 0.4."""
    return TRAINING_RADIUS / max(float(np.linalg.norm(unit_vertices, axis=1).max()), 1e-9)


class CodedDecoder(nn.Module):
    """``(n, 3) unit-cube points -> (n,)`` distances of one shape: ``decoder(points * scale, code) / scale``."""

    def __init__(self, decoder: LatentDecoder, code: torch.Tensor, scale: float):
        super().__init__()
        self.decoder = decoder
        self.register_buffer("code", code.detach().clone())
        self.scale = scale
        self.hidden = decoder.hidden
        self.outputs = 1

    def forward_with_taps(self, points: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        distances, taps = self.decoder.forward_with_taps(points * self.scale, self.code.expand(len(points), -1))
        return distances / self.scale, taps

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.forward_with_taps(points)[0]

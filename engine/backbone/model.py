"""A DeepSDF auto-decoder: ``(points, latent) -> signed distance``, with its hidden activations as taps.

Unlike ``engine.field.model.SDFDecoder`` (one field per mesh) the decoder is shared by every shape of a
collection and told which shape by a latent code, concatenated to the encoded point at the input and at
the skip layer (DeepSDF). Its activations at a mesh's vertices are comparable across meshes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ..field.model import PositionalEncoding


@dataclass(frozen=True)
class BackboneSettings:
    """Architecture of the shared decoder; saved as JSON beside its weights."""

    width: int = 128
    hidden_layers: int = 6
    skip_layer: int = 3
    frequencies: int = 6
    latent_size: int = 32

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


class LatentDecoder(nn.Module):
    """MLP ``(n, 3) unit-cube points, (n, latent_size) codes -> (n,) signed distance``."""

    def __init__(self, settings: BackboneSettings):
        super().__init__()
        self.settings = settings
        self.encoding = PositionalEncoding(settings.frequencies)
        inputs = self.encoding.output_size + settings.latent_size
        width = settings.width
        sizes_in = [inputs] + [width + (inputs if i == settings.skip_layer else 0)
                               for i in range(1, settings.hidden_layers)]
        self.hidden = nn.ModuleList(nn.Linear(size, width) for size in sizes_in)
        self.activation = nn.ReLU()
        self.output = nn.Linear(width, 1)

    def forward_with_taps(self, points: torch.Tensor, codes: torch.Tensor
                          ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(n,) distances and one (n, width) activation tensor per hidden layer."""
        inputs = torch.cat([self.encoding(points), codes], dim=1)
        x = inputs
        taps = []
        for index, layer in enumerate(self.hidden):
            if index == self.settings.skip_layer and index > 0:
                x = torch.cat([x, inputs], dim=1)
            x = self.activation(layer(x))
            taps.append(x)
        return self.output(x).squeeze(1), taps

    def forward(self, points: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        return self.forward_with_taps(points, codes)[0]

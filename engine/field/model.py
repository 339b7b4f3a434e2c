"""DeepSDF-style decoder with positional encoding, a skip connection and taps.

``SDFDecoder.forward_with_taps`` returns the activations of every hidden layer,
which probing reads at the mesh vertices.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..settings import ModelSettings

ACTIVATIONS = {"relu": nn.ReLU, "softplus": lambda: nn.Softplus(beta=100.0), "silu": nn.SiLU}


class PositionalEncoding(nn.Module):
    """(n, 3) -> (n, 3 + 6 F): the point and sin/cos at F octave frequencies."""

    def __init__(self, frequencies: int):
        super().__init__()
        self.register_buffer("scales", (2.0 ** torch.arange(frequencies)) * math.pi)
        self.output_size = 3 + 6 * frequencies

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        scaled = points[:, None, :] * self.scales[None, :, None]
        return torch.cat([points, torch.sin(scaled).flatten(1), torch.cos(scaled).flatten(1)], dim=1)


class SDFDecoder(nn.Module):
    """MLP ``(n, 3) unit-cube points -> (n,) signed distance``, or ``(n, outputs)`` with several outputs.

    Hidden layer ``skip_layer`` receives the encoding again, concatenated to
    the previous layer's output (DeepSDF's skip connection). With ``outputs``
    above 1 each output channel is one part's SDF (see ``engine.parts.part_fields``).
    """

    def __init__(self, settings: ModelSettings, outputs: int = 1):
        super().__init__()
        if settings.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{settings.activation}'")
        self.settings = settings
        self.encoding = PositionalEncoding(settings.frequencies)
        width, enc = settings.width, self.encoding.output_size
        sizes_in = [enc] + [width + (enc if i == settings.skip_layer else 0) for i in range(1, settings.hidden_layers)]
        self.hidden = nn.ModuleList(nn.Linear(size, width) for size in sizes_in)
        self.activation = ACTIVATIONS[settings.activation]()
        self.outputs = outputs
        self.output = nn.Linear(width, outputs)

    def forward_with_taps(self, points: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Returns the SDF (n,) or (n, outputs) and one (n, width) activation tensor per hidden layer."""
        encoded = self.encoding(points)
        x = encoded
        taps = []
        for index, layer in enumerate(self.hidden):
            if index == self.settings.skip_layer and index > 0:
                x = torch.cat([x, encoded], dim=1)
            x = self.activation(layer(x))
            taps.append(x)
        output = self.output(x)
        return (output.squeeze(1) if self.outputs == 1 else output), taps

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.forward_with_taps(points)[0]

"""The map between the input's coordinates and the unit cube the fields are fitted in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Normalisation:
    """Maps input coordinates into the unit cube ``[-0.5, 0.5]^3`` and back."""

    center: tuple[float, float, float]
    scale: float

    def to_unit(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) input coordinates -> (n, 3) unit-cube coordinates."""
        return (points - np.asarray(self.center)) * self.scale

    def from_unit(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) unit-cube coordinates -> (n, 3) input coordinates."""
        return points / self.scale + np.asarray(self.center)

    @classmethod
    def fit(cls, vertices: np.ndarray) -> Normalisation:
        """Center the bounding box and scale its longest side to 1."""
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        extent = float((high - low).max())
        center = tuple(float(c) for c in (low + high) / 2.0)
        return cls(center=center, scale=1.0 / extent)

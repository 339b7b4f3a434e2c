"""Reading the decoder's hidden activations at query points."""

from __future__ import annotations

import numpy as np
import torch

from .model import SDFDecoder


@torch.no_grad()
def activations(model: SDFDecoder, points: np.ndarray, device: torch.device, chunk: int = 65536) -> list[np.ndarray]:
    """One (n, width) float32 array per hidden layer at unit-cube points (n, 3)."""
    per_layer: list[list[np.ndarray]] = [[] for _ in model.hidden]
    for start in range(0, len(points), chunk):
        batch = torch.from_numpy(np.ascontiguousarray(points[start:start + chunk], dtype=np.float32)).to(device)
        _, taps = model.forward_with_taps(batch)
        for store, tap in zip(per_layer, taps, strict=True):
            store.append(tap.cpu().numpy())
    return [np.concatenate(store) for store in per_layer]


def standardise(features: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(n, d) -> (n, d') z-scored columns; constant (dead) columns are dropped."""
    std = features.std(axis=0)
    alive = std > eps
    return ((features[:, alive] - features[:, alive].mean(axis=0)) / std[alive]).astype(np.float32)


def feature_sets(layers: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Standardised features per layer (``layer_0``...) and for all layers (``all``).

    In ``all`` every layer is scaled by 1/sqrt(its width) so that each layer
    weighs the same whatever its number of live units.
    """
    sets = {f"layer_{i}": standardise(layer) for i, layer in enumerate(layers)}
    sets["all"] = np.concatenate([f / np.sqrt(max(1, f.shape[1])) for f in sets.values()], axis=1)
    return sets

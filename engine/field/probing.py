"""Reading the decoder at query points: its outputs (``evaluate``) or its hidden activations."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import torch

from .model import SDFDecoder


@torch.no_grad()
def evaluate(model: SDFDecoder, points: np.ndarray, device: torch.device, chunk: int = 65536) -> np.ndarray:
    """(n, outputs) float32: the decoder's channels at (n, 3) unit-cube points (no gradients).

    ``model`` is left where it is: it runs on ``device`` as it is, or as a copy
    moved there.
    """
    model = on_device(model, device)
    values = np.empty((len(points), model.outputs), dtype=np.float32)
    for rows, batch in batches(points, device, chunk):
        values[rows] = model(batch).reshape(len(batch), -1).cpu().numpy()
    return values


@torch.no_grad()
def activations(model: SDFDecoder, points: np.ndarray, device: torch.device, chunk: int = 65536) -> list[np.ndarray]:
    """One (n, width) float32 array per hidden layer at unit-cube points (n, 3).

    Each layer's array is allocated once and filled ``chunk`` points at a time
    (no list of chunks to concatenate: that would hold every layer twice).
    ``model`` is left where it is, as in ``evaluate``.
    """
    model = on_device(model, device)
    per_layer = [np.empty((len(points), layer.out_features), dtype=np.float32) for layer in model.hidden]
    for rows, batch in batches(points, device, chunk):
        _, taps = model.forward_with_taps(batch)
        for store, tap in zip(per_layer, taps, strict=True):
            store[rows] = tap.cpu().numpy()
        del taps  # before the next chunk's forward pass: one chunk's taps at a time
    return per_layer


def batches(points: np.ndarray, device: torch.device, chunk: int) -> Iterator[tuple[slice, torch.Tensor]]:
    """Consecutive chunks of (n, 3) points: their rows and a (k, 3) float32 tensor on ``device``, k <= chunk."""
    for start in range(0, len(points), chunk):
        batch = np.ascontiguousarray(points[start:start + chunk], dtype=np.float32)
        yield slice(start, start + len(batch)), torch.from_numpy(batch).to(device)


def on_device(model: SDFDecoder, device: torch.device) -> SDFDecoder:
    """``model`` itself when its weights lie on ``device``, else a copy moved there (``model`` is not moved)."""
    return model if _lies_on(next(model.parameters()), device) else copy.deepcopy(model).to(device)


def _lies_on(tensor: torch.Tensor, device: torch.device) -> bool:
    """Whether ``tensor`` is on ``device``; "cuda" without an index means torch's current GPU."""
    device = torch.device(device)
    if tensor.device.type != device.type:
        return False
    if device.index is not None:
        return tensor.device.index == device.index
    return device.type != "cuda" or tensor.device.index == torch.cuda.current_device()


def standardise(features: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """(n, d) -> (n, d') z-scored columns; constant (dead) columns are dropped."""
    return _standardised(features, features.std(axis=0), eps)


def _standardised(features: np.ndarray, std: np.ndarray, eps: float) -> np.ndarray:
    """``standardise`` with the (d,) column standard deviations already known."""
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


def feature_set(layers: list[np.ndarray], name: str, eps: float = 1e-6) -> np.ndarray:
    """``feature_sets(layers)[name]`` without building the other sets: (n, d').

    ``all`` is filled layer by layer into one array, so that besides the result
    only one standardised layer is held at a time (``feature_sets`` holds every
    set, and the scaled copies, at once). Raises KeyError for an unknown name.
    """
    if name != "all":
        names = [f"layer_{i}" for i in range(len(layers))]
        if name not in names:
            raise KeyError(name)
        return standardise(layers[names.index(name)], eps)
    stds = [layer.std(axis=0) for layer in layers]
    widths = [int((std > eps).sum()) for std in stds]
    features, begin = None, 0
    for layer, std, width in zip(layers, stds, widths, strict=True):
        scaled = _standardised(layer, std, eps) / np.sqrt(max(1, width))
        if features is None:  # the dtype of the scaled blocks, as np.concatenate would give
            features = np.empty((len(layer), sum(widths)), dtype=scaled.dtype)
        features[:, begin:begin + width] = scaled
        begin += width
    return features

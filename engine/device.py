"""Torch device and thread selection (explicit, never a hidden global default)."""

from __future__ import annotations

import torch

from .errors import BadInputError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU; an unavailable explicit choice is an error."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise BadInputError("device 'cuda' requested but this torch build sees no CUDA GPU")
    if name == "mps" and not mps:
        raise BadInputError("device 'mps' requested but Metal (MPS) is not available")
    if name not in ("cpu", "cuda", "mps"):
        raise BadInputError(f"unknown device '{name}'")
    return torch.device(name)


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (None keeps torch's default); returns the count in use."""
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()

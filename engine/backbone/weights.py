"""Saving and loading the backbone: ``<name>.pt`` (a state dict) beside ``<name>.json`` (settings, provenance).

The shipped weights live in this package's ``weights/`` folder. A missing or unreadable file is a
``WeightsError`` with one line that says which file and what to do.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import torch

from ..errors import EngineError
from .head import HeadSettings, ProjectionHead
from .model import BackboneSettings, LatentDecoder

SHIPPED = Path(__file__).parent / "weights" / "backbone"
SHIPPED_HEAD = Path(__file__).parent / "weights" / "head"


class WeightsError(EngineError):
    """The backbone's weights are missing or cannot be read."""


def save_backbone(model: LatentDecoder | ProjectionHead, path: Path, provenance: dict) -> None:
    """Write ``path.pt`` and ``path.json`` (settings and ``provenance``: how the weights were made)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    torch.save(state, path.with_suffix(".pt"))
    info = {"settings": model.settings.to_json(), "provenance": provenance}
    path.with_suffix(".json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def load_backbone(path: Path = SHIPPED) -> tuple[LatentDecoder, dict]:
    """The decoder (on the CPU, eval mode) and its JSON record; ``WeightsError`` when either file is bad."""
    return _load(path, lambda settings: LatentDecoder(BackboneSettings(**settings)))


def load_head(path: Path = SHIPPED_HEAD) -> tuple[ProjectionHead, dict]:
    """The DINO head (CPU, eval mode) and its JSON record; ``WeightsError`` when either file is bad."""
    return _load(path, lambda settings: ProjectionHead(HeadSettings(**settings)))


def _load(path: Path, build):
    path = Path(path)
    weights, record = path.with_suffix(".pt"), path.with_suffix(".json")
    for file in (weights, record):
        if not file.is_file():
            raise WeightsError(f"backbone file {file} is missing: reinstall PartSDF or train one "
                               "(python -m bench train-backbone)")
    try:
        info = json.loads(record.read_text())
        model = build(info["settings"])
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError,
            pickle.UnpicklingError) as error:
        raise WeightsError(f"backbone file {weights} cannot be read ({type(error).__name__}): reinstall PartSDF "
                           "or train one (python -m bench train-backbone)") from error
    return model.eval(), info

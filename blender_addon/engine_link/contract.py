"""The engine's contract (``engine/contract.py``), loaded from the bundled engine by its path.

The add-on keeps no copy of the protocol's message types, the exit codes, the names in the
result folder or the part colour rule: it loads that one standard-library file, never the
``engine`` package (whose import would load torch into Blender's process). The file is
executed once per path and kept in ``sys.modules`` under a private name.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def extension_root() -> Path:
    """The folder from which ``python -m engine`` imports the engine.

    Installed extension: the add-on folder itself (engine/ is staged inside).
    Development checkout: the repository root (engine/ is a sibling of the add-on).
    """
    addon = Path(__file__).resolve().parents[1]
    if (addon / "engine").is_dir():
        return addon
    return addon.parent


def contract_path() -> Path:
    return extension_root() / "engine" / "contract.py"


def load() -> ModuleType:
    """The engine's contract module, executed from ``contract_path()`` on the first call."""
    path = contract_path()
    name = f"_partsdf_engine_contract_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ImportError(f"PartSDF: the engine's contract is missing at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


_engine = load()

# The names the add-on uses, read from the engine's file (none is declared here).
EXIT_CANCELLED: int = _engine.EXIT_CANCELLED
decode = _engine.decode
part_color = _engine.part_color
SEGMENTATION: str = _engine.SEGMENTATION
FACE_LABELS: str = _engine.FACE_LABELS
MODEL_WEIGHTS: str = _engine.MODEL_WEIGHTS
MODEL_INFO: str = _engine.MODEL_INFO
MODEL_FILES: tuple[str, ...] = _engine.MODEL_FILES
FIELD_GENERATION: int = _engine.FIELD_GENERATION

"""PyTorch for Blenders whose extension zip could not bundle it (Blender 5.1+ on Linux).

PyPI's Linux torch is a CUDA build of several GB, so the Linux zip for Blender's
Python 3.13 ships without torch. With the user's consent the add-on installs the
CPU build with Blender's own pip into the extension's user folder
(``<extension user folder>/runtime/py3XX``); the engine subprocess then finds it
on its PYTHONPATH. The install goes into a staging folder that is renamed into
place only when pip succeeded, so a failed or cancelled install leaves nothing
half-written. This module never imports bpy.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

TORCH_REQUIREMENT = "torch==2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI_INDEX = "https://pypi.org/simple"
DOWNLOAD_NOTE = "about 200 MB from PyTorch's CPU package index, plus about 20 MB of its dependencies"


def python_tag() -> str:
    """'py313' for the running interpreter (runtimes of different Blender Pythons never mix)."""
    return f"py{sys.version_info.major}{sys.version_info.minor}"


def runtime_folder(base: str | Path) -> Path:
    """Where the installed packages of this Python line live under the extension's user folder ``base``."""
    return Path(base) / "runtime" / python_tag()


def has_torch(runtime: Path | None) -> bool:
    """Whether the engine will find torch: bundled (on Blender's path) or installed into ``runtime``."""
    if runtime is not None and (runtime / "torch" / "__init__.py").is_file():
        return True
    return importlib.util.find_spec("torch") is not None


def install_command(python: str, target: Path, index_url: str = CPU_INDEX, find_links: str = "") -> list[str]:
    """pip command that installs torch (and its dependencies, never numpy) into ``target``.

    find_links: a local folder of wheels; when given, nothing is downloaded (``--no-index``).
    """
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-cache-dir",
               "--only-binary=:all:", "--target", str(target), TORCH_REQUIREMENT]
    if find_links:
        return command + ["--no-index", "--find-links", find_links]
    return command + ["--index-url", index_url, "--extra-index-url", PYPI_INDEX]


def staging_folder(runtime: Path) -> Path:
    """A fresh folder beside ``runtime`` for pip to install into."""
    runtime.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{runtime.name}.installing-", dir=runtime.parent))


def commit(staging: Path, runtime: Path) -> None:
    """Put a finished install in place of ``runtime`` (an earlier one is replaced)."""
    if runtime.exists():
        old = runtime.with_name(f".{runtime.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        runtime.rename(old)
        staging.rename(runtime)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(runtime)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def decode_pip_line(line: str) -> dict:
    """Every line pip prints becomes a STATUS message (the install's progress in the UI)."""
    return {"type": "STATUS", "message": line[:120]}

"""The output folder of ``segment``, written atomically (its names: engine/contract.py).

The folder is written under a temporary name next to its destination and
renamed into place at the end, so a crash or a cancel never leaves a
half-written result where a caller looks for one. Before any work,
``check_output_target`` refuses an OUT that could not be written or whose
replacement would delete a file PartSDF did not write. This module imports
nothing heavy.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from .contract import OWN_NAMES, SEGMENTATION
from .errors import BadInputError

STALE_AFTER_S = 24 * 3600  # where a run's process cannot be asked whether it lives (Windows)


def check_output_target(out: Path) -> None:
    """Refuse, before any work, an output folder that could not be written or replaced.

    OUT must be a new path in a folder the user can write, or an earlier PartSDF
    output that holds nothing else (files PartSDF did not write are never deleted).
    Staging folders left by killed runs into the same parent are removed.
    """
    out = Path(out)
    if out.is_symlink():
        raise BadInputError(f"{out} is a symbolic link; give -o the folder itself")
    if out.exists() and not out.is_dir():
        raise BadInputError(f"{out} is a file; -o takes a folder (a new one, or an earlier PartSDF output)")
    existing = next((p for p in (out.parent, *out.parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise BadInputError(f"{existing} is a file, so {out} cannot be created; choose another -o")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInputError(f"cannot write into {existing}; choose an -o in a folder you can write")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES)
        if foreign and not (out / SEGMENTATION).is_file():
            raise BadInputError(f"{out} exists and is not a PartSDF output folder; choose another -o")
        if foreign:
            raise BadInputError(f"{out} holds files PartSDF did not write ({', '.join(foreign[:3])}); "
                                "move them out or choose another -o")
    if out.parent.is_dir():
        remove_stale_staging(out)


def staging_prefix(out: Path, kind: str) -> str:
    return f".{out.name}.{kind}-"


def remove_stale_staging(out: Path) -> list[Path]:
    """Delete the staging folders of runs into ``out`` whose process has ended; returns them."""
    removed = []
    for kind in ("partial", "old"):
        for folder in out.parent.glob(staging_prefix(out, kind) + "*"):
            pid = folder.name[len(staging_prefix(out, kind)):].split("-")[0]
            if folder.is_dir() and not _run_alive(pid, folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


def _run_alive(pid: str, folder: Path) -> bool:
    """Whether the run that owns a staging folder may still be writing it."""
    if not pid.isdigit():
        return False
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: go by age instead
        return (time.time() - folder.stat().st_mtime) < STALE_AFTER_S
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def user_permissions(folder: Path) -> None:
    """Give a finished folder the modes the user's umask asks for (mkdtemp makes it 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)


RENAME_TRIES, RENAME_PAUSE_S = 30, 0.1


def replace_folder(staging: Path, out: Path) -> None:
    """Put ``staging`` in the place of ``out`` (an earlier output moves aside first, then is deleted).

    On Windows a folder cannot be renamed while a reader holds one of its files
    open (the add-on reads the LABELS folder while part meshes are built), so
    that rename is tried again for up to ``RENAME_TRIES * RENAME_PAUSE_S`` seconds.
    """
    if out.exists():
        old = out.with_name(f"{staging_prefix(out, 'old')}{os.getpid()}")
        for attempt in range(RENAME_TRIES):
            try:
                out.rename(old)
                break
            except PermissionError:
                if attempt == RENAME_TRIES - 1:
                    raise
                time.sleep(RENAME_PAUSE_S)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)

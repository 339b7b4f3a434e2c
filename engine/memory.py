"""Peak memory of a run, estimated before any big allocation, and the refusal when it cannot fit.

Measured on icospheres and a 974,400-face UV sphere with ``--quality fast
--no-parts`` (``python -m bench memory``, docs/benchmarks.md): past a
floor (torch, the libraries, the fit), the peak grows with the welded vertex
count u. Two moments are highest: the spectral embedding (the (u, d)
activations, the (u, d) standardised features and scipy's sparse LU factor,
which grows a little faster than u) and the held-out classifier (the
activations and up to three copies of 80 % of their rows), where d = width x
hidden layers. ``FEATURE_COPIES`` float32 (u, d) arrays per vertex cover both
up to 487k welded vertices (about 1M faces); for wider models (balanced,
high) the LU factor is a smaller share, so the estimate errs high.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import BadInputError
from .settings import ModelSettings, RunSettings

MB = 1024**2
FLOOR_BYTES = 600 * MB  # a 10k-vertex run: torch, scipy, the decoder and its fit
FEATURE_COPIES = 4.3  # float32 (u, d) arrays per vertex at the peak, LU factor included (measured up to u = 487k)
PART_VOLUME_BYTES = 250 * MB  # the per-part SDFs and their meshes (fast: +216 MB at 10k and 163k vertices)
HEADROOM = 1.15  # margin: the estimate times this must fit in the available memory


def peak_model(model: ModelSettings, reads_activations: bool = True, part_volumes: bool = False) -> tuple[int, float]:
    """The linear peak estimate: (floor bytes, bytes per welded vertex).

    ``reads_activations``: whether the whole surface is probed and clustered
    (False when the parts are given: nothing per vertex is counted).
    ``part_volumes``: whether the per-part SDFs are fitted and meshed.
    """
    per_vertex = FEATURE_COPIES * 4 * model.width * model.hidden_layers if reads_activations else 0.0
    return FLOOR_BYTES + (PART_VOLUME_BYTES if part_volumes else 0), per_vertex


def estimated_peak_bytes(welded_vertices: int, model: ModelSettings, reads_activations: bool = True,
                         part_volumes: bool = False) -> int:
    """Estimated peak resident memory (bytes) of a run on a welded mesh of ``welded_vertices`` (see ``peak_model``)."""
    floor, per_vertex = peak_model(model, reads_activations, part_volumes)
    return int(floor + per_vertex * welded_vertices)


def available_bytes() -> int | None:
    """Memory this process may still take (bytes): MemAvailable, capped by a cgroup limit; None if unknown.

    Linux only (``/proc/meminfo``, else ``os.sysconf``); None elsewhere, where no check is made.
    """
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None
    limit = _cgroup_room()
    return available if limit is None else min(available, limit)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Limit minus usage of this container's memory cgroup (v2, then v1); None without a limit."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:
            return None
        return max(0, int(limit) - usage)
    return None


def check_memory(welded_vertices: int, faces: int, settings: RunSettings, model: ModelSettings | None = None,
                 reads_activations: bool = True, available: int | None = None) -> None:
    """Raise BadInputError when the run's estimated peak (times ``HEADROOM``) exceeds the available memory.

    faces: the mesh's face count (for the message). model: the decoder's
    settings when it is not ``settings.fit.model`` (a reused field).
    ``available``: bytes (default: ``available_bytes()``; no check when unknown).
    """
    available = available_bytes() if available is None else available
    if available is None:
        return
    floor, per_vertex = peak_model(settings.fit.model if model is None else model, reads_activations,
                                   part_volumes=settings.part_field is not None)
    needed = int(floor + per_vertex * welded_vertices)
    if needed * HEADROOM > available:
        fitting = (available / HEADROOM - floor) / per_vertex if per_vertex > 0 else 0.0  # welded vertices
        suggested = int(faces * max(fitting, 0.0) / max(welded_vertices, 1)) // 1000 * 1000
        raise BadInputError(refusal_message(faces, needed, available, settings.quality, suggested))


def refusal_message(faces: int, needed: int, available: int, quality: str, suggested_faces: int) -> str:
    """One line: the mesh needs more memory than is available, and what to do."""
    advice = (f"decimate it to under {suggested_faces:,} faces first" if suggested_faces > 0
              else "free memory (close other programs) or decimate it first")
    return (f"the mesh has {faces:,} faces: segmenting it at {quality} quality needs about "
            f"{needed / 1024**3:.1f} GB of memory but {available / 1024**3:.1f} GB is available; "
            f"{advice} (Blender: Decimate modifier)")

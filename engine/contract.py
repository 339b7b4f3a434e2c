"""The contract between the engine and its callers: protocol events, exit codes, on-disk names, part colours.

Standard library only: the Blender add-on loads this one file from the bundled engine
(``blender_addon/engine_link/contract.py``) instead of keeping its own copy.

With ``--events`` the CLI writes one JSON object per line on stdout, from a
closed set of types:

- ``{"type": "STATUS", "message": str}``
- ``{"type": "PROGRESS", "stage": str, "fraction": float, "overall": float}``
  (``fraction``: done share of this stage, ``overall``: of the whole run, 0..1)
- ``{"type": "WARN", "message": str}``
- ``{"type": "ERROR", "message": str, "exit_code": int}``  (2 bad input, 1 internal, 130 cancelled)
- ``{"type": "LABELS", "output": str, "parts": int, "types": int}``: the parts exist and ``output``
  already holds them, complete but without part meshes; those follow with DONE, which replaces the
  folder. Sent only by runs that build part meshes; a cancel after it leaves that folder in place.
- ``{"type": "DONE", "output": str, "parts": int, "types": int}``

Nothing else is printed on stdout in that mode; logs go to stderr. SIGINT
(or SIGTERM) cancels: the engine stops at the next step, leaves no output
folder (or the one LABELS announced), sends ERROR with exit code 130 and exits with 130.
"""

from __future__ import annotations

import colorsys
import json
import sys
from typing import IO, Any

MESSAGE_TYPES = ("STATUS", "PROGRESS", "WARN", "ERROR", "LABELS", "DONE")
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130

# The output folder of ``segment`` (written atomically, see engine/output_folder.py).
FORMAT_VERSION = 1
SEGMENTATION = "segmentation.json"
VERTEX_LABELS = "vertex_labels.npy"
FACE_LABELS = "face_labels.npy"
COLORED_MESH = "segmented.ply"
MODEL_WEIGHTS = "model.pt"
MODEL_INFO = "model.json"
SURFACE_GRAPH = "surface_graph.npz"
PART_FIELD_WEIGHTS = "part_field.pt"
PART_MESH_FOLDER = "parts"
UNION_MESH = "union.obj"
MODEL_FILES = (MODEL_WEIGHTS, MODEL_INFO, SURFACE_GRAPH)  # what ``--reuse`` reads (the graph is optional)
# Part of the add-on's model-cache key: raised whenever a preset's field changes (issue 12: 64x5), so
# that fields cached by an earlier version are fitted again instead of reused.
FIELD_GENERATION = 2
OWN_NAMES = frozenset({SEGMENTATION, VERTEX_LABELS, FACE_LABELS, COLORED_MESH, MODEL_WEIGHTS, MODEL_INFO,
                       SURFACE_GRAPH, PART_FIELD_WEIGHTS, PART_MESH_FOLDER, UNION_MESH,
                       ".DS_Store", "Thumbs.db", "desktop.ini"})  # file browsers' own files go with the folder


def encode(message_type: str, **fields: Any) -> str:
    """One protocol line (without newline)."""
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {message_type}")
    return json.dumps({"type": message_type, **fields}, separators=(",", ":"))


def decode(line: str) -> dict:
    """Parse one protocol line; raises ValueError on anything that is not a known message."""
    message = json.loads(line)
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
        raise ValueError(f"not a protocol message: {line[:200]!r}")
    return message


class EventWriter:
    """Writes protocol lines to a stream, flushing each one."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream if stream is not None else sys.stdout

    def send(self, message_type: str, **fields: Any) -> None:
        self.stream.write(encode(message_type, **fields) + "\n")
        self.stream.flush()


def part_color(part_id: int) -> tuple[float, float, float]:
    """RGB in 0..1 of a part id: distinct hues by the golden angle, alternating lightness."""
    hue = (part_id * 0.618033988749895) % 1.0
    return colorsys.hls_to_rgb(hue, 0.5 if part_id % 2 == 0 else 0.62, 0.72)

"""``python -m bench collection [--per-family N] [--image PATH]``: a contact sheet of the collection.

Each shape appears twice: coloured by part instance (left) and by part kind (right; one colour per kind
over the whole sheet), so the kinds shared across families can be seen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..contact_sheet import SheetEntry, render_contact_sheet_apart
from .families import FAMILIES, KINDS
from .shapes import collection_shape


def sheet_entries(seed: int, per_family: int) -> list[SheetEntry]:
    """The first ``per_family`` training shapes of each family, as contact-sheet entries."""
    entries = []
    for index in range(per_family * len(FAMILIES)):
        shape = collection_shape(seed, "train", index)
        vertices, faces = shape.mesh(128)
        centres = vertices[faces].mean(axis=1)
        kinds = ", ".join(sorted({KINDS[k] for k in shape.kinds}))
        entries.append(SheetEntry(vertices, faces, shape.instances(centres), shape.kind_labels(centres),
                                  f"{shape.builder}: {kinds}"))
    return sorted(entries, key=lambda entry: entry.caption)


def run_collection_sheet(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench collection", description="contact sheet of the "
                                     "procedural collection: part instances (left), part kinds (right)")
    parser.add_argument("--per-family", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image", type=Path, default=Path("docs/collection.png"))
    args = parser.parse_args(argv)
    render_contact_sheet_apart(sheet_entries(args.seed, args.per_family), args.image)
    return 0

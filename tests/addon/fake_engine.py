"""A stand-in engine for add-on tests: a real subprocess speaking the engine's protocol.

Run as ``fake_engine.py MODE -m engine segment MESH -o OUT [options]``:
- ok: splits the mesh into parts by x coordinate (or takes ``--face-labels``, keeping their ids, and
  ``--split-part`` into ``--parts`` pieces by x) and writes a complete result folder; each part mesh
  is its vertices' bounding box; a part that holds no vertex gets no mesh
- garbage: prints non-protocol text and exits 0
- crash: prints a traceback on stderr and exits 1
- hang: sends progress until it receives SIGINT, then ERROR 130 and exits 130
- missing: fails like a missing dependency
- info: answers ``engine info`` with one JSON object

With ``-m engine serve`` (the warm engine) ``ok`` takes one request per stdin line; the other modes
behave as when started for one run (the warm engine sees them die or hang).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np


def send(kind, **fields):
    sys.stdout.write(json.dumps({"type": kind, **fields}) + "\n")
    sys.stdout.flush()


def option(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def write_obj(path, low, high):
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    quads = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    lines = [f"v {x} {y} {z}" for x, y, z in corners] + ["f " + " ".join(map(str, q)) for q in quads]
    path.write_text("\n".join(lines) + "\n")


def segment(args):
    mesh, output = Path(args[3]), Path(option(args, "-o"))
    count = int(option(args, "--parts", 3))
    with np.load(mesh, allow_pickle=False) as data:
        vertices, faces = data["vertices"], data["faces"]
    send("STATUS", message="fake engine")
    for step in range(3):
        send("PROGRESS", stage="fitting", fraction=step / 3, overall=step / 4)
    if "--reuse" in args:
        send("STATUS", message=f"reusing {Path(option(args, '--reuse')).name}")
    if "--face-labels" in args:  # the caller's ids per triangle, kept; vertices take their first face's id
        face_labels = np.load(option(args, "--face-labels")).astype(np.int32)
        labels = np.full(len(vertices), -1, np.int32)
        labels[faces[::-1].ravel()] = np.repeat(face_labels[::-1], 3)
        if "--split-part" in args:  # the part's vertices go into --parts pieces by x quantiles
            split = int(option(args, "--split-part"))
            members = labels == split
            edges = np.quantile(vertices[members, 0], np.linspace(0, 1, count + 1)[1:-1])
            piece = np.searchsorted(edges, vertices[:, 0], side="right")
            first_new = int(face_labels.max()) + 1
            labels[members & (piece > 0)] = first_new + piece[members & (piece > 0)] - 1
            moved = (face_labels == split) & (labels[faces[:, 0]] != split)
            face_labels[moved] = labels[faces[moved, 0]]
        ids = sorted(set(face_labels.tolist()) | set(labels[labels >= 0].tolist()))
    else:
        x = vertices[:, 0]
        edges = np.quantile(x, np.linspace(0, 1, count + 1)[1:-1])
        labels = np.searchsorted(edges, x, side="right").astype(np.int32)
        face_labels = labels[faces[:, 0]].astype(np.int32)
        ids = list(range(count))
    staging = output.with_name(output.name + ".tmp")
    (staging / "parts").mkdir(parents=True)
    np.save(staging / "vertex_labels.npy", labels)
    np.save(staging / "face_labels.npy", face_labels)
    parts = []
    for part in ids:
        members = vertices[labels == part] if (labels == part).any() else None
        if members is None and "--face-labels" not in args:
            members = vertices[:1]  # a clustered part always gets a mesh
        entry = {
            "id": part,
            "name": f"Part {part + 1:02d}",
            "type": part % 2,
            "type_name": f"type {part % 2}",
            "vertex_count": int((labels == part).sum()),
            "face_count": int((face_labels == part).sum()),
            "color": [0.1 + 0.25 * part % 1.0, 0.5, 0.9 - 0.2 * part % 0.9],
        }
        if "--no-parts" not in args:
            entry["mesh"] = None if members is None else f"parts/{part}_{part % 2}.obj"
            if members is not None:
                write_obj(staging / entry["mesh"], members.min(0), members.max(0) + 1e-3)
        parts.append(entry)
    count = len(parts)
    document = {
        "format_version": 1,
        "engine_version": "fake-1",
        "input": {},
        "settings": {"quality": "fast"},
        "types": [{"id": 0, "name": "type 0"}, {"id": 1, "name": "type 1"}],
        "parts": parts,
        "files": {"vertex_labels": "vertex_labels.npy", "face_labels": "face_labels.npy"},
        "timings": {},
    }
    (staging / "segmentation.json").write_text(json.dumps(document))
    (staging / "model.json").write_text("{}")  # stands in for the fitted model the add-on caches
    (staging / "model.pt").write_bytes(b"")
    os.replace(staging, output)
    send("DONE", output=str(output), parts=count, types=2)


def hang():
    def stop(*_):
        send("ERROR", message="cancelled", exit_code=130)
        sys.exit(130)

    signal.signal(signal.SIGINT, stop)
    for step in range(6000):
        send("PROGRESS", stage="fitting", fraction=step / 6000, overall=step / 6000)
        time.sleep(0.01)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "info":
        print(json.dumps({"engine_version": "fake-1", "torch": "0.0-fake", "device": "cpu", "cuda": False}))
    elif mode == "ok" and args[2:3] == ["serve"]:  # the warm engine: one request per stdin line
        for line in sys.stdin:
            segment(["-m", "engine", "segment", *json.loads(line)["segment"]])
    elif mode == "ok":
        segment(args)
    elif mode == "garbage":
        print("Hello, this is not JSON")
        print("{not json either")
    elif mode == "crash":
        send("PROGRESS", stage="fitting", fraction=0.1, overall=0.05)
        sys.stderr.write("Traceback (most recent call last):\nRuntimeError: boom\n")
        sys.exit(1)
    elif mode == "hang":
        hang()
    elif mode == "missing":
        sys.stderr.write("ModuleNotFoundError: No module named 'torch'\n")
        sys.exit(1)


if __name__ == "__main__":
    main()

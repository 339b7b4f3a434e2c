"""The batch's report: ``summary.json`` (options, totals, the library's part types with ``--features dino``,
one record per input) and ``summary.csv``.

Both are written to a temporary name and renamed into place, after every finished input, so a
killed batch leaves a summary of what it had done.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
CSV_COLUMNS = ("input", "status", "parts", "types", "seconds", "attempts", "exit_code", "error", "output")
STATUSES = ("ok", "skipped", "failed", "cancelled")


def totals(records: list[dict], wall_seconds: float) -> dict:
    """Counts per status and the throughput of the inputs run in this batch (skipped ones excluded)."""
    counts = {status: sum(r["status"] == status for r in records) for status in STATUSES}
    done = counts["ok"] + counts["failed"]
    return {**counts, "inputs": len(records), "wall_seconds": round(wall_seconds, 1),
            "meshes_per_hour": round(3600.0 * done / wall_seconds, 1) if wall_seconds > 0 and done else None}


def library_types(records: list[dict]) -> list[dict]:
    """The library's part types (``--features dino``, where a type name means the same in every input):
    per name, how many parts carry it and in which inputs, most common first."""
    table: dict[str, dict] = {}
    for record in records:
        for name in record.get("part_types") or []:
            entry = table.setdefault(name, {"name": name, "parts": 0, "inputs": []})
            entry["parts"] += 1
            if record["input"] not in entry["inputs"]:
                entry["inputs"].append(record["input"])
    return sorted(table.values(), key=lambda entry: (-entry["parts"], entry["name"]))


def write_summary(out_dir: Path, records: list[dict], run: dict, wall_seconds: float) -> dict:
    """Write both files; returns the JSON document. run: the batch's options, workers, backend."""
    ordered = sorted(records, key=lambda r: r["input"])
    shared = run.get("options", {}).get("features") == "dino"
    document = {"run": run, "totals": totals(ordered, wall_seconds),
                "types": library_types(ordered) if shared else None, "inputs": ordered}
    _replace(Path(out_dir) / SUMMARY_JSON, json.dumps(document, indent=2))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(ordered)
    _replace(Path(out_dir) / SUMMARY_CSV, text.getvalue())
    return document


def _replace(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)

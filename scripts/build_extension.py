"""Build the PartSDF Blender extension zips with Blender's own extension tool.

    python scripts/build_extension.py [--wheels-dir wheels] [--python 3.11 ...] [--platform linux-x64 ...]
        [--layout per-python|combined] [--no-wheels] [--dist dist] [--blender-ext PATH]

Stages ``blender_addon/`` (the extension's root package) with ``engine/`` as a
sub-folder, the manifest and the wheels fetched by scripts/fetch_wheels.py
(``wheels/index.json``) into ``build/staging-*``, writes the wheels, platforms
and Blender version range into the staged manifest, then runs ``blender_ext.py
validate`` and ``build --split-platforms`` (the tool ships inside the bpy
wheel; ``--blender-ext`` points at another copy) and validates every zip.

Layouts:

- ``per-python`` (default): one zip per (platform, Python line), e.g.
  ``partsdf-0.1.0-linux_x64-py311.zip`` for Blender 4.2 to 5.0
  (``blender_version_min = "4.2.0"``, ``blender_version_max = "5.1.0"``, exclusive) and
  ``partsdf-0.1.0-linux_x64-py313.zip`` for Blender 5.1 and newer.
- ``combined``: one zip per platform carrying both lines' wheels
  (``partsdf-0.1.0-linux_x64.zip``); Blender 4.2.13+ installs only the wheels of
  its own Python, but 4.2.0 ... 4.2.x before that filter by platform only and
  would keep the cp313 wheel of a package whose versions tie. About twice the size.

``dist/index.json`` lists the zips (size, wheel count, Blender range, whether
torch is bundled: the Linux cp313 zip has no torch unless a CPU build was fetched).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_wheels import INDEX, LINES, PLATFORMS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*_codes.pt")
"""Never staged: caches, and the backbone's training codes (the head's training reads them; inference does not)."""
DEFAULT_PLATFORMS = ["linux-x64"]
SPLIT = "--split-platforms"
LAYOUTS = ("per-python", "combined")


def find_blender_ext() -> Path:
    """blender_ext.py inside the installed bpy module."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("build_extension: bpy is not installed; pass --blender-ext PATH/TO/blender_ext.py")
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if found:
            return found[-1]
    raise SystemExit("build_extension: blender_ext.py not found in the bpy module; pass --blender-ext")


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def staged_manifest(
    text: str,
    platforms: list[str],
    wheels: list[str],
    blender_min: str | None = None,
    blender_max: str | None = None,
) -> str:
    """The manifest with its ``platforms`` and ``wheels`` lines replaced and, when given, the Blender range set."""
    for key, values in (("platforms", platforms), ("wheels", wheels)):
        text, count = re.subn(rf"(?m)^{key}\s*=\s*\[[^\]]*\]", f"{key} = {toml_list(values)}", text)
        if count != 1:
            raise SystemExit(f"build_extension: blender_manifest.toml needs one '{key} = [...]' line")
    text = re.sub(r"(?m)^blender_version_max\s*=.*\n", "", text)
    if blender_min is not None:
        text, count = re.subn(
            r"(?m)^blender_version_min\s*=.*$", f"blender_version_min = {json.dumps(blender_min)}", text
        )
        if count != 1:
            raise SystemExit("build_extension: blender_manifest.toml needs one 'blender_version_min = ...' line")
    if blender_max is not None:
        text = re.sub(
            r"(?m)^(blender_version_min\s*=.*)$",
            lambda m: f"{m.group(1)}\nblender_version_max = {json.dumps(blender_max)}",
            text,
        )
    return text


def read_sets(wheels_dir: Path) -> list[dict]:
    """The wheel sets of ``wheels/index.json`` (one per Python line and platform) whose folder exists."""
    index = wheels_dir / INDEX
    if not index.is_file():
        raise SystemExit(f"build_extension: {index} is missing; run scripts/fetch_wheels.py first (or --no-wheels)")
    sets = json.loads(index.read_text(encoding="utf-8"))["sets"]
    return [s for s in sets if (wheels_dir / s["dir"]).is_dir()]


def plan(sets: list[dict], pythons: list[str] | None, platforms: list[str] | None, layout: str) -> list[dict]:
    """The builds, one zip each: per (Python line, platform), or per platform with every line (combined).

    Each build stages only its own sets' wheels, so a zip carries no pure-Python wheel that another
    platform needed (colorama for Windows' tqdm, torch's dependencies in the torch-less Linux cp313 zip).
    """
    chosen = [
        s for s in sets if (not pythons or s["python"] in pythons) and (not platforms or s["platform"] in platforms)
    ]
    if not chosen:
        raise SystemExit(
            f"build_extension: no fetched wheels for {pythons or 'any Python'} / {platforms or 'any platform'}"
        )
    if layout == "combined":
        groups = [("", [s for s in chosen if s["platform"] == p]) for p in PLATFORMS]
    else:
        groups = [
            (f"-{LINES[p]['tag']}", [s for s in chosen if s["python"] == p and s["platform"] == q])
            for p in LINES
            for q in PLATFORMS
        ]
    builds = []
    for suffix, group in groups:
        if not group:
            continue
        pythons_in = sorted({s["python"] for s in group})
        platform = group[0]["platform"]
        builds.append(
            {
                "name": f"{platform}{suffix}",
                "suffix": suffix,
                "pythons": pythons_in,
                "sets": group,
                "platform": platform,
                "blender_min": min((LINES[p]["blender_min"] for p in pythons_in), key=version_tuple),
                "blender_max": None if len(pythons_in) > 1 else LINES[pythons_in[0]]["blender_max"],
            }
        )
    return builds


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def zip_name(extension_id: str, version: str, platform: str, suffix: str) -> str:
    """``partsdf-0.1.0-linux_x64-py311.zip`` (blender_ext names its split zips without the suffix)."""
    return f"{extension_id}-{version}-{platform.replace('-', '_')}{suffix}.zip"


def manifest_value(text: str, key: str) -> str:
    match = re.search(rf'(?m)^{key}\s*=\s*"([^"]*)"', text)
    if not match:
        raise SystemExit(f"build_extension: blender_manifest.toml has no {key}")
    return match.group(1)


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def stage(
    staging: Path,
    wheels: list[Path],
    platforms: list[str],
    blender_min: str | None = None,
    blender_max: str | None = None,
) -> Path:
    """Copy the add-on, the engine, the wheels (hard links when possible) and the manifest into ``staging``."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(ROOT / "blender_addon", staging, ignore=IGNORED)
    shutil.copytree(ROOT / "engine", staging / "engine", ignore=IGNORED)
    (staging / "wheels").mkdir()
    for wheel in wheels:
        link_or_copy(wheel, staging / "wheels" / wheel.name)
    manifest = (ROOT / "blender_manifest.toml").read_text(encoding="utf-8")
    names = [f"./wheels/{w.name}" for w in wheels]
    text = staged_manifest(manifest, platforms, names, blender_min, blender_max)
    (staging / "blender_manifest.toml").write_text(text, encoding="utf-8")
    return staging


def unique_wheels(wheels_dir: Path, sets: list[dict]) -> list[Path]:
    """The sets' wheel files, each file name once (pure-Python wheels are shared between platforms)."""
    found: dict[str, Path] = {}
    for entry in sets:
        for name in entry["wheels"]:
            found.setdefault(name, wheels_dir / entry["dir"] / name)
    return [found[n] for n in sorted(found)]


def run_tool(blender_ext: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(blender_ext), *args], check=True)


def build_one(blender_ext: Path, staging: Path, dist: Path, platform: str, suffix: str) -> Path:
    """Validate ``staging``, build its ``platform`` zip into ``dist`` (named with ``suffix``) and validate it."""
    manifest = (staging / "blender_manifest.toml").read_text(encoding="utf-8")
    extension_id, version = manifest_value(manifest, "id"), manifest_value(manifest, "version")
    run_tool(blender_ext, "validate", str(staging))
    target = dist / zip_name(extension_id, version, platform, suffix)
    with tempfile.TemporaryDirectory(prefix="partsdf-build-", dir=dist) as out:
        # --split-platforms with one platform: the zip's manifest gets Blender's [build.generated] section.
        run_tool(blender_ext, "build", "--source-dir", str(staging), "--output-dir", out, SPLIT)
        os.replace(Path(out) / zip_name(extension_id, version, platform, ""), target)
    run_tool(blender_ext, "validate", str(target))
    return target


def describe(path: Path, build: dict) -> dict:
    names = zipfile.ZipFile(path).namelist()
    sets = build["sets"]
    return {
        "zip": path.name,
        "platform": build["platform"],
        "pythons": build.get("pythons", []),
        "blender_min": build.get("blender_min"),
        "blender_max": build.get("blender_max"),
        "mb": round(path.stat().st_size / 1e6, 1),
        "wheels": sum(1 for n in names if n.startswith("wheels/") and n.endswith(".whl")),
        "torch_bundled": bool(sets) and all(s["torch_bundled"] for s in sets),
    }


def table(rows: list[dict]) -> str:
    lines = ["| zip | Blender | MB | wheels | torch bundled |", "|---|---|---|---|---|"]
    for row in rows:
        span = f">= {row['blender_min']}" + (f", < {row['blender_max']}" if row["blender_max"] else "")
        lines.append(
            f"| {row['zip']} | {span} | {row['mb']} | {row['wheels']} | {'yes' if row['torch_bundled'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels-dir", type=Path, default=ROOT / "wheels")
    parser.add_argument("--no-wheels", action="store_true", help="bundle no wheels (engine needs an external Python)")
    parser.add_argument("--python", action="append", choices=list(LINES), help="restrict to these Python lines")
    parser.add_argument("--platform", action="append", choices=PLATFORMS, help="restrict to these platforms")
    parser.add_argument("--layout", choices=LAYOUTS, default="per-python", help="zips per Python line or combined")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--blender-ext", type=Path, help="path to Blender's blender_ext.py")
    args = parser.parse_args(argv)
    if args.no_wheels:
        platforms = args.platform or DEFAULT_PLATFORMS
        builds = [{"name": f"{p}-nowheels", "suffix": "", "platform": p, "sets": []} for p in platforms]
    else:
        builds = plan(read_sets(args.wheels_dir), args.python, args.platform, args.layout)
    blender_ext = args.blender_ext or find_blender_ext()
    args.dist.mkdir(parents=True, exist_ok=True)
    rows = []
    for build in builds:
        wheels = unique_wheels(args.wheels_dir, build["sets"])
        staging = args.build_dir / f"staging-{build['name']}"
        stage(staging, wheels, [build["platform"]], build.get("blender_min"), build.get("blender_max"))
        try:
            path = build_one(blender_ext, staging, args.dist, build["platform"], build["suffix"])
        except subprocess.CalledProcessError as error:
            sys.stderr.write(f"build_extension: blender_ext.py {error.cmd[2]} failed (exit {error.returncode})\n")
            return 1
        rows.append(describe(path, build))
        torch = "" if rows[-1]["torch_bundled"] or args.no_wheels else ", torch NOT bundled"
        sys.stderr.write(f"build_extension: {path} {rows[-1]['mb']} MB, {rows[-1]['wheels']} wheels{torch}\n")
    if not args.no_wheels:
        (args.dist / INDEX).write_text(json.dumps({"zips": rows}, indent=2) + "\n", encoding="utf-8")
        sys.stderr.write(table(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

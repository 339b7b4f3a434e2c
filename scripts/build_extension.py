"""Build the PartSDF Blender extension zips with Blender's own extension tool.

    python scripts/build_extension.py [--wheels-dir wheels] [--no-wheels] [--dist dist] [--platform linux-x64 ...]

Stages ``blender_addon/`` (the extension's root package) with ``engine/`` as a
sub-folder, the manifest and the wheels into ``build/staging``, writes the
wheels list and platforms into the staged manifest, then runs ``blender_ext.py
validate`` and ``build --split-platforms`` (the tool ships inside the bpy
wheel; ``--blender-ext`` points at another copy). One zip per platform lands
in ``dist/``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
DEFAULT_PLATFORMS = ["linux-x64"]
SPLIT = "--split-platforms"


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


def staged_manifest(text: str, platforms: list[str], wheels: list[str]) -> str:
    """The manifest with its ``platforms`` and ``wheels`` lines replaced."""
    for key, values in (("platforms", platforms), ("wheels", wheels)):
        text, count = re.subn(rf"(?m)^{key}\s*=\s*\[[^\]]*\]", f"{key} = {toml_list(values)}", text)
        if count != 1:
            raise SystemExit(f"build_extension: blender_manifest.toml needs one '{key} = [...]' line")
    return text


def wheel_set(wheels_dir: Path, requested: list[str] | None) -> tuple[list[Path], list[str]]:
    """The wheel files and the platforms they cover (from fetch_wheels' platforms.json)."""
    index = wheels_dir / "platforms.json"
    if not index.is_file():
        raise SystemExit(f"build_extension: {index} is missing; run scripts/fetch_wheels.py first (or --no-wheels)")
    fetched = json.loads(index.read_text(encoding="utf-8"))["platforms"]
    platforms = [p for p in (requested or fetched) if p in fetched]
    if not platforms:
        raise SystemExit(f"build_extension: no wheels for {requested}; fetched: {fetched}")
    return sorted(wheels_dir.glob("*.whl")), platforms


def stage(staging: Path, wheels: list[Path], platforms: list[str]) -> Path:
    """Copy the add-on, the engine, the wheels and the manifest into ``staging``."""
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(ROOT / "blender_addon", staging, ignore=IGNORED)
    shutil.copytree(ROOT / "engine", staging / "engine", ignore=IGNORED)
    (staging / "wheels").mkdir()
    for wheel in wheels:
        shutil.copy2(wheel, staging / "wheels" / wheel.name)
    manifest = (ROOT / "blender_manifest.toml").read_text(encoding="utf-8")
    names = [f"./wheels/{w.name}" for w in wheels]
    (staging / "blender_manifest.toml").write_text(staged_manifest(manifest, platforms, names), encoding="utf-8")
    return staging


def run_tool(blender_ext: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(blender_ext), *args], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheels-dir", type=Path, default=ROOT / "wheels")
    parser.add_argument("--no-wheels", action="store_true", help="bundle no wheels (engine needs an external Python)")
    parser.add_argument("--platform", action="append", help="restrict to these platforms (default: all fetched)")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--blender-ext", type=Path, help="path to Blender's blender_ext.py")
    args = parser.parse_args(argv)
    if args.no_wheels:
        wheels, platforms = [], args.platform or DEFAULT_PLATFORMS
    else:
        wheels, platforms = wheel_set(args.wheels_dir, args.platform)
    blender_ext = args.blender_ext or find_blender_ext()
    staging = stage(args.build_dir / "staging", wheels, platforms)
    args.dist.mkdir(parents=True, exist_ok=True)
    try:
        run_tool(blender_ext, "validate", str(staging))
        run_tool(blender_ext, "build", "--source-dir", str(staging), "--output-dir", str(args.dist), SPLIT)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"build_extension: blender_ext.py {error.cmd[2]} failed (exit {error.returncode})\n")
        return 1
    for platform in platforms:
        pattern = "*" + platform.replace("-", "_") + "*.zip"
        sys.stderr.write(f"build_extension: {platform}: {[str(p) for p in sorted(args.dist.glob(pattern))]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

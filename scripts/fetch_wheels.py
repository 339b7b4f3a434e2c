"""Download the engine's dependencies as binary wheels for the Blender extension.

    python scripts/fetch_wheels.py [--platform linux-x64 ...] [--find-links DIR ...] [--wheels-dir wheels]

For each Blender platform this runs ``pip download --only-binary=:all:
--python-version 3.11 --platform <tags>`` on requirements.txt (numpy is
removed: Blender ships its own). ``--find-links`` adds local wheel folders
(the CPU torch wheel on these machines, e.g. /opt/wheels); ``--extra-index-url``
adds an index, such as PyTorch's CPU-only one, so that Linux gets the small CPU
build of torch rather than the multi-GB CUDA one. The wheels land in
one folder with ``platforms.json`` naming the platforms that were fetched;
scripts/build_extension.py reads both.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"
EXCLUDED = ("numpy",)
# Blender platform -> pip platform tags (newest first is not required: pip takes any listed).
PLATFORM_TAGS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"],
    "windows-x64": ["win_amd64"],
    "macos-arm64": ["macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_13_0_arm64", "macosx_14_0_arm64"],
}


def requirements(path: Path) -> list[str]:
    """Requirement lines of ``path`` without comments and without the excluded packages."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        name = line.split("=")[0].split(">")[0].split("<")[0].split("[")[0].strip().lower()
        if line and name not in EXCLUDED:
            lines.append(line)
    return lines


def pip_download_command(
    platform: str, requirement_lines: list[str], dest: Path, find_links: list[str], extra_index: list[str]
) -> list[str]:
    command = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", PYTHON_VERSION]
    command += ["--implementation", "cp", "--dest", str(dest), "--progress-bar", "off"]
    for tag in PLATFORM_TAGS[platform]:
        command += ["--platform", tag]
    for folder in find_links:
        command += ["--find-links", folder]
    for url in extra_index:
        command += ["--extra-index-url", url]
    return command + requirement_lines


def fetch(
    platform: str, requirement_lines: list[str], dest: Path, find_links: list[str], extra_index: list[str]
) -> None:
    """Download the wheels of one platform into ``dest``; raises CalledProcessError when pip fails."""
    subprocess.run(pip_download_command(platform, requirement_lines, dest, find_links, extra_index), check=True)


def remove_excluded(dest: Path) -> list[str]:
    removed = []
    for wheel in dest.glob("*.whl"):
        if wheel.name.split("-")[0].lower() in EXCLUDED:
            wheel.unlink()
            removed.append(wheel.name)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORM_TAGS), help="default: linux-x64")
    parser.add_argument("--find-links", action="append", default=[], help="local folder of wheels (repeatable)")
    parser.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        help="extra package index (repeatable), e.g. PyTorch's CPU-only index for a small Linux torch",
    )
    parser.add_argument("--wheels-dir", type=Path, default=ROOT / "wheels")
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    args = parser.parse_args(argv)
    platforms = args.platform or ["linux-x64"]
    args.wheels_dir.mkdir(parents=True, exist_ok=True)
    lines = requirements(args.requirements)
    fetched = []
    for platform in platforms:
        sys.stderr.write(f"fetch_wheels: {platform}: {' '.join(lines)}\n")
        try:
            fetch(platform, lines, args.wheels_dir, args.find_links, args.extra_index_url)
        except subprocess.CalledProcessError as error:
            sys.stderr.write(f"fetch_wheels: {platform} failed (pip exit {error.returncode})\n")
            continue
        fetched.append(platform)
    remove_excluded(args.wheels_dir)
    (args.wheels_dir / "platforms.json").write_text(json.dumps({"platforms": fetched}, indent=2) + "\n")
    sys.stderr.write(f"fetch_wheels: {len(list(args.wheels_dir.glob('*.whl')))} wheels for {', '.join(fetched)}\n")
    return 0 if fetched == platforms else 1


if __name__ == "__main__":
    sys.exit(main())

"""Download the engine's dependencies as binary wheels for the Blender extension, per Blender Python line.

    python scripts/fetch_wheels.py [--python 3.11|3.13 ...] [--platform linux-x64 ...]
        [--find-links DIR | --torch-find-links DIR ...] [--extra-index-url URL ...]
        [--wheels-dir wheels] [--cache-dir DIR]

Blender's Python lines: cp311 for Blender 4.2 LTS, 4.5 LTS and 5.0; cp313 for
Blender 5.1 and newer. Each (line, platform) pair is fetched in two steps:

1. Resolve. ``pip install --dry-run --report`` on requirements.txt (numpy
   removed: Blender ships its own and extensions may not bundle it) with this
   line's pins (``PINS``) and numpy held at the oldest numpy the line's Blenders
   ship, so that no bundled wheel needs a newer numpy than Blender has.
   pip evaluates environment markers against the machine it runs on, not the
   ``--platform`` it is given (``tqdm`` would lose ``colorama`` on Windows and
   Windows/macOS torch would pull Linux-only CUDA packages), so pip runs with
   the target's marker environment (``marker_environment``). Every resolved
   wheel's ``Requires-Dist: numpy`` is then checked against each Blender's numpy.
2. Download exactly the resolved files (``pip download --no-deps
   --require-hashes``) into a cache (``--cache-dir``; reruns download nothing),
   and hard-link them into ``wheels/py311/linux-x64/`` etc.

Linux torch must be a CPU build (PyPI's Linux torch is the CUDA one: ~0.5 GB
plus GBs of nvidia-* wheels): on Linux the requirement becomes
``torch==X+cpu``, found through pip's configured find-links (/opt/wheels here
holds the cp311 one), ``--torch-find-links DIR`` or ``--extra-index-url URL``
(e.g. PyTorch's CPU index). When no CPU build is reachable the set is fetched
without torch and ``index.json`` records ``"torch_bundled": false`` (the
add-on then offers to install the CPU torch on first run).
PyPI's Windows and macOS torch wheels are CPU builds.

``wheels/index.json`` describes every fetched set; scripts/build_extension.py reads it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
EXCLUDED = ("numpy",)
INDEX = "index.json"

# Blender platform -> pip platform tags (pip also accepts the older manylinux/macOS versions of each).
PLATFORM_TAGS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "linux_x86_64"],
    "windows-x64": ["win_amd64"],
    "macos-arm64": ["macosx_11_0_arm64", "macosx_12_0_arm64", "macosx_13_0_arm64", "macosx_14_0_arm64"],
}
PLATFORMS = list(PLATFORM_TAGS)

# Marker values of each target (what packaging.markers.default_environment() would say on it).
PLATFORM_MARKERS = {
    "linux-x64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "windows-x64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
}

# Blender's Python lines. blender_max is exclusive (Blender refuses versions >= max).
LINES = {
    "3.11": {"tag": "py311", "full_version": "3.11.9", "blender_min": "4.2.0", "blender_max": "5.1.0"},
    "3.13": {"tag": "py313", "full_version": "3.13.0", "blender_min": "5.1.0", "blender_max": None},
}
PYTHONS = list(LINES)

# The numpy each Blender ships (extensions can't bundle numpy, so every wheel must work with it).
# Sources: build_files/build_environment/cmake/versions.cmake of each release's library set, and the
# bpy wheels' Requires-Dist (4.2.23: numpy, unpinned; 4.5.15 and 5.0.1: numpy<2.0,>=1.26;
# 5.1.1+ and 5.2: numpy<3.0,>=2.2; 5.1.0's "numpy<2.0,>=1.26" is stale: numpy 1.26 has no cp313 build).
# "floor" is bpy 5.1's lower bound, checked too so the cp313 set doesn't depend on a numpy 2.3 feature.
BLENDER_NUMPY = {
    "3.11": {"4.2": "1.24.3", "4.5": "1.26.4", "5.0": "1.26.4"},
    "3.13": {"floor": "2.2.6", "5.1": "2.3.4"},
}

# Per-line versions of the top-level packages (each within requirements.txt's range). The cp311 ones
# need numpy <= 1.24.3 (Blender 4.2): scipy 1.16+ needs numpy>=1.25.2, so cp311 stays on scipy 1.15.
PINS = {
    "3.11": {
        "torch": "2.13.0",
        "scipy": "1.15.3",
        "scikit-image": "0.26.0",
        "trimesh": "5.2.0",
        "tqdm": "4.70.1",
        "libigl": "2.6.3",
    },
    "3.13": {
        "torch": "2.13.0",
        "scipy": "1.18.1",
        "scikit-image": "0.26.0",
        "trimesh": "5.2.0",
        "tqdm": "4.70.1",
        "libigl": "2.6.3",
    },
}
CPU_LOCAL = "cpu"  # Linux torch must carry this local version label (torch==2.13.0+cpu)

# pip with the target's marker environment: argv[1] is the JSON environment, the rest pip's arguments.
PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv[1])
host = markers.default_environment
def default_environment():
    values = host()
    values.update(target)
    return values
markers.default_environment = default_environment
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def default_cache_dir() -> Path:
    if os.environ.get("PARTSDF_WHEEL_CACHE"):
        return Path(os.environ["PARTSDF_WHEEL_CACHE"])
    return Path.home() / ".cache" / "partsdf-wheels"


def package_name(line: str) -> str:
    return re.split(r"[\s=<>!~\[;@]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirements(path: Path) -> list[str]:
    """Requirement lines of ``path`` without comments and without the excluded packages."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and package_name(line) not in EXCLUDED:
            lines.append(line)
    return lines


def pinned_requirements(lines: list[str], python: str, platform: str) -> list[str]:
    """``lines`` with this line's pins; on Linux torch becomes the CPU build (``torch==X+cpu``)."""
    pins = PINS[python]
    result = []
    for line in lines:
        name = package_name(line)
        if name in pins:
            line = f"{name}=={pins[name]}"
        if name == "torch" and platform.startswith("linux"):
            version = line.split("==", 1)[1].split("+", 1)[0] if "==" in line else pins.get("torch")
            line = f"torch=={version}+{CPU_LOCAL}"
        result.append(line)
    return result


def numpy_floor(python: str) -> str:
    """The oldest numpy among the line's Blenders: the resolver must work with it."""
    return min(BLENDER_NUMPY[python].values(), key=lambda v: tuple(int(x) for x in v.split(".")))


def marker_environment(python: str, platform: str) -> dict[str, str]:
    full = LINES[python]["full_version"]
    env = dict(PLATFORM_MARKERS[platform])
    env.update(
        os_name="nt" if platform.startswith("windows") else "posix",
        python_version=python,
        python_full_version=full,
        implementation_name="cpython",
        implementation_version=full,
        platform_python_implementation="CPython",
        platform_release="",
        platform_version="",
    )
    return env


def target_options(python: str, platform: str) -> list[str]:
    options = ["--only-binary=:all:", "--python-version", python, "--implementation", "cp"]
    for tag in PLATFORM_TAGS[platform]:
        options += ["--platform", tag]
    return options


def source_options(find_links: list[str], extra_index: list[str]) -> list[str]:
    options = []
    for folder in find_links:
        options += ["--find-links", folder]
    for url in extra_index:
        options += ["--extra-index-url", url]
    return options


def resolve_command(
    python: str, platform: str, lines: list[str], report: Path, target: Path, sources: list[str]
) -> list[str]:
    """pip (with the target's markers) resolving ``lines`` + numpy at the line's floor, writing ``report``."""
    env = json.dumps(marker_environment(python, platform))
    command = [sys.executable, "-c", PIP_WITH_MARKERS, env, "install", "--dry-run", "--ignore-installed"]
    command += target_options(python, platform)
    command += ["--target", str(target), "--report", str(report), "--quiet", "--progress-bar", "off"]
    return command + sources + [*lines, f"numpy=={numpy_floor(python)}"]


def resolve(python: str, platform: str, lines: list[str], sources: list[str]) -> tuple[list[dict] | None, str]:
    """The resolved wheels (pip report items without numpy), or None and pip's error."""
    with tempfile.TemporaryDirectory(prefix="partsdf-resolve-") as tmp:
        report = Path(tmp) / "report.json"
        done = subprocess.run(
            resolve_command(python, platform, lines, report, Path(tmp) / "target", sources),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not report.is_file():
            errors = [x for x in done.stderr.splitlines() if x.startswith("ERROR")]
            return None, "\n".join(errors[-3:]) or done.stderr[-800:]
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    return [i for i in items if i["metadata"]["name"].lower() not in EXCLUDED], ""


def _packaging():
    try:
        from packaging.requirements import Requirement
        from packaging.version import Version
    except ImportError:  # pip's copy
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    return Requirement, Version


def numpy_requirement(requires_dist: list[str], environment: dict[str, str]) -> str | None:
    """The numpy specifier among ``requires_dist`` that applies on ``environment`` (no extras), or None."""
    Requirement, _ = _packaging()
    for text in requires_dist or []:
        req = Requirement(text)
        if req.name.lower() != "numpy":
            continue
        if req.marker is not None and not req.marker.evaluate({**environment, "extra": ""}):
            continue
        return str(req.specifier)
    return None


def numpy_violations(items: list[dict], python: str, platform: str) -> list[str]:
    """'name version needs numpy<spec>, Blender X ships Y' for every wheel the line's numpy can't satisfy."""
    Requirement, Version = _packaging()
    environment = marker_environment(python, platform)
    problems = []
    for item in items:
        meta = item["metadata"]
        spec = numpy_requirement(meta.get("requires_dist") or [], environment)
        if not spec:
            continue
        specifier = Requirement(f"numpy{spec}").specifier
        for blender, version in BLENDER_NUMPY[python].items():
            if not specifier.contains(Version(version), prereleases=True):
                problems.append(f"{meta['name']} {meta['version']} needs numpy{spec}; Blender {blender}: {version}")
    return problems


def wheel_filename(url: str) -> str:
    return unquote(Path(urlparse(url).path).name)


def sha256_of(item: dict) -> str | None:
    info = item["download_info"]
    hashes = info.get("archive_info", {}).get("hashes") or {}
    if "sha256" in hashes:
        return hashes["sha256"]
    legacy = info.get("archive_info", {}).get("hash", "")
    if legacy.startswith("sha256="):
        return legacy.split("=", 1)[1]
    if info["url"].startswith("file:"):
        return hashlib.sha256(Path(unquote(urlparse(info["url"]).path)).read_bytes()).hexdigest()
    return None


def download_requirements(items: list[dict]) -> tuple[list[str], bool]:
    """``name @ url --hash=sha256:..`` lines for pip download, and whether every line has a hash."""
    lines, hashed = [], True
    for item in items:
        line = f"{item['metadata']['name']} @ {item['download_info']['url']}"
        digest = sha256_of(item)
        if digest:
            line += f" --hash=sha256:{digest}"
        else:
            hashed = False
        lines.append(line)
    return lines, hashed


def download(python: str, platform: str, items: list[dict], cache: Path, sources: list[str]) -> None:
    """Download the resolved files into ``cache`` (files already there with the right hash are kept)."""
    lines, hashed = download_requirements(items)
    with tempfile.TemporaryDirectory(prefix="partsdf-download-") as tmp:
        listing = Path(tmp) / "requirements.txt"
        listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--progress-bar", "off"]
        command += target_options(python, platform) + ["--dest", str(cache), "--quiet"] + sources
        command += ["--require-hashes"] if hashed else []
        subprocess.run([*command, "-r", str(listing)], check=True)


def link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def set_dir(python: str, platform: str) -> str:
    return f"{LINES[python]['tag']}/{platform}"


def read_index(wheels_dir: Path) -> dict:
    path = wheels_dir / INDEX
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"sets": []}


def merge_index(index: dict, entries: list[dict]) -> dict:
    """``index`` with ``entries`` replacing the sets of the same (python, platform)."""
    keys = {(e["python"], e["platform"]) for e in entries}
    kept = [s for s in index.get("sets", []) if (s["python"], s["platform"]) not in keys]
    order = {(p, q): i for i, (p, q) in enumerate((p, q) for p in PYTHONS for q in PLATFORMS)}
    sets = sorted(kept + entries, key=lambda s: order.get((s["python"], s["platform"]), len(order)))
    return {"sets": sets, "blender_numpy": BLENDER_NUMPY, "pins": PINS}


def fetch_set(
    python: str, platform: str, lines: list[str], wheels_dir: Path, cache: Path, sources: list[str]
) -> dict | None:
    """Resolve, download and link one (python, platform) set; its index entry, or None on failure."""
    started = time.monotonic()
    wanted = pinned_requirements(lines, python, platform)
    items, error = resolve(python, platform, wanted, sources)
    torch_bundled, note = any(package_name(x) == "torch" for x in wanted), ""
    if items is None and torch_bundled and platform.startswith("linux"):
        note = "no CPU torch build reachable: pass --torch-find-links DIR or --extra-index-url URL"
        sys.stderr.write(f"fetch_wheels: {python} {platform}: {note}; fetching without torch\n{error}\n")
        wanted = [x for x in wanted if package_name(x) != "torch"]
        items, error = resolve(python, platform, wanted, sources)
        torch_bundled = False
    if items is None:
        sys.stderr.write(f"fetch_wheels: {python} {platform}: resolution failed:\n{error}\n")
        return None
    problems = numpy_violations(items, python, platform)
    if problems:
        sys.stderr.write(f"fetch_wheels: {python} {platform}: numpy too old for:\n  " + "\n  ".join(problems) + "\n")
        return None
    names = [wheel_filename(i["download_info"]["url"]) for i in items]
    before = {n for n in names if (cache / n).is_file()}
    try:
        download(python, platform, items, cache, sources)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"fetch_wheels: {python} {platform}: download failed (pip exit {error.returncode})\n")
        return None
    target = wheels_dir / set_dir(python, platform)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in names:
        link_or_copy(cache / name, target / name)
    sizes = {n: (cache / n).stat().st_size for n in names}
    entry = {
        "python": python,
        "platform": platform,
        "dir": set_dir(python, platform),
        "wheels": sorted(names),
        "torch_bundled": torch_bundled,
        "bytes": sum(sizes.values()),
        "downloaded_bytes": sum(s for n, s in sizes.items() if n not in before),
        "seconds": round(time.monotonic() - started, 1),
        "numpy_checked": BLENDER_NUMPY[python],
    }
    if note:
        entry["note"] = note
    sys.stderr.write(
        f"fetch_wheels: {python} {platform}: {len(names)} wheels, {entry['bytes'] / 1e6:.0f} MB "
        f"({entry['downloaded_bytes'] / 1e6:.0f} MB downloaded, {entry['seconds']} s)"
        f"{'' if torch_bundled else ', WITHOUT torch'}\n"
    )
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", choices=PYTHONS, help="Blender Python line (default: all)")
    parser.add_argument("--platform", action="append", choices=PLATFORMS, help="default: all")
    parser.add_argument(
        "--find-links",
        "--torch-find-links",
        dest="find_links",
        action="append",
        default=[],
        help="local folder of wheels (repeatable), e.g. one holding the Linux CPU torch wheels",
    )
    parser.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        help="extra package index (repeatable), e.g. PyTorch's CPU-only one for the Linux torch",
    )
    parser.add_argument("--wheels-dir", type=Path, default=ROOT / "wheels")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="download cache (default: $PARTSDF_WHEEL_CACHE or ~/.cache/partsdf-wheels)",
    )
    parser.add_argument("--requirements", type=Path, default=ROOT / "requirements.txt")
    args = parser.parse_args(argv)
    pythons = args.python or PYTHONS
    platforms = args.platform or PLATFORMS
    cache = args.cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    args.wheels_dir.mkdir(parents=True, exist_ok=True)
    lines = requirements(args.requirements)
    sources = source_options(args.find_links, args.extra_index_url)
    started = time.monotonic()
    entries, failed = [], []
    for python in pythons:
        for platform in platforms:
            entry = fetch_set(python, platform, lines, args.wheels_dir, cache, sources)
            (entries.append(entry) if entry else failed.append(f"{python}/{platform}"))
    index = merge_index(read_index(args.wheels_dir), entries)
    (args.wheels_dir / INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    total = sum(e["bytes"] for e in entries) / 1e6
    downloaded = sum(e["downloaded_bytes"] for e in entries) / 1e6
    sys.stderr.write(
        f"fetch_wheels: {len(entries)} sets, {total:.0f} MB of wheels ({downloaded:.0f} MB downloaded) in "
        f"{time.monotonic() - started:.0f} s; index: {args.wheels_dir / INDEX}\n"
    )
    if failed:
        sys.stderr.write(f"fetch_wheels: failed: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

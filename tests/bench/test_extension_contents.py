"""What ships: the extension zip carries the engine and the add-on, never the benchmark or the tests.

Built with ``scripts/build_extension.py --no-wheels`` into a temporary folder
(Blender's ``blender_ext.py`` from the bpy module; under a second); the staged
folder is checked too, without bpy.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE_FILES = ("engine/__init__.py", "engine/__main__.py", "engine/cli.py", "engine/contract.py")
ENGINE_PACKAGES = ("engine/field/", "engine/mesh/", "engine/parts/", "engine/segment/", "engine/backbone/")
BENCH_MODULES = ("shapes.py", "metrics.py", "baselines.py", "volume_baselines.py", "sdf_compare.py", "part_bench.py",
                 "shape_bench.py", "memory_table.py", "report.py")


def assert_ships_engine_without_benchmark(names: list[str]) -> None:
    for name in ENGINE_FILES:
        assert name in names
    for package in ENGINE_PACKAGES:
        assert f"{package}__init__.py" in names
        assert any(n.startswith(package) and not n.endswith("__init__.py") for n in names), package
    assert "blender_manifest.toml" in names and "__init__.py" in names
    parts = [Path(n).parts for n in names]
    assert not [n for n, p in zip(names, parts, strict=True) if "bench" in p[:-1] or p[0] == "tests"]
    assert not [n for n in names if Path(n).name in BENCH_MODULES]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "engine/backbone/weights/backbone.pt" in names and "engine/backbone/weights/head.pt" in names
    assert not [n for n in names if n.endswith("_codes.pt")]


def test_staged_folder_has_the_engine_and_no_benchmark(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import build_extension

    staging = build_extension.stage(tmp_path / "staging", [], ["linux-x64"])
    names = [p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()]
    assert_ships_engine_without_benchmark(names)


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="building the zip needs Blender's blender_ext.py")
def test_built_zip_has_the_engine_and_no_benchmark(tmp_path):
    command = [sys.executable, str(REPO / "scripts" / "build_extension.py"), "--no-wheels", "--platform", "linux-x64",
               "--build-dir", str(tmp_path / "build"), "--dist", str(tmp_path / "dist")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    zips = sorted((tmp_path / "dist").glob("*.zip"))
    assert [z.name for z in zips] == ["partsdf-0.1.0-linux_x64.zip"]
    with zipfile.ZipFile(zips[0]) as archive:
        assert_ships_engine_without_benchmark(archive.namelist())

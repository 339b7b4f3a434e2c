"""Fetching wheels per Blender Python line, building the extension zips, installing one into a sandboxed Blender.

The install test bundles no wheels (``--no-wheels``): the torch wheel alone is
~190 MB and installing all wheels takes ~20 s and 1.3 GB. The installed
extension then runs its own staged engine copy with this Python (which has the
engine's dependencies). Set PARTSDF_TEST_WHEELS=1 to fetch and bundle the real
cp311 Linux wheels instead (the CPU torch wheel comes from pip's find-links,
/opt/wheels on these machines). The pin, marker and manifest tests are pure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from conftest import REPO, SANDBOX, engine_available

sys.path.insert(0, str(REPO / "scripts"))
import build_extension  # noqa: E402
import fetch_wheels  # noqa: E402

INSTALL = r"""
import os, sys, json
import bpy, addon_utils
zip_path = sys.argv[-1]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
name = "bl_ext.user_default.partsdf"
module = sys.modules.get(name)
report = {
    "check": list(addon_utils.check(name)),
    "root": str(module.engine_link.client.extension_root()) if module else None,
    "contract": module.engine_link.contract.load().__file__ if module else None,
    "wheel_dirs": list(module.ui.preferences.wheel_site_packages()) if module else None,
    "scene_prop": hasattr(bpy.types.Scene, "partsdf"),
    "prefs": name in bpy.context.preferences.addons,
}
if module and os.environ.get("PARTSDF_CHECK_ENGINE"):
    try:
        bpy.ops.partsdf.check_engine()
    except RuntimeError as error:
        report["check_error"] = str(error)
    report["engine"] = module.ui.preferences._last_check["text"]
print("REPORT " + json.dumps(report))
"""


def build(tmp_path, *extra: str) -> list:
    dist = tmp_path / "dist"
    command = [sys.executable, str(REPO / "scripts" / "build_extension.py"), "--build-dir", str(tmp_path / "build")]
    done = subprocess.run([*command, "--dist", str(dist), *extra], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(dist.glob("*.zip"))


def install(zip_path, sandbox, check_engine: bool) -> dict:
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(sandbox), "PARTSDF_CHECK_ENGINE": "1" if check_engine else ""}
    done = subprocess.run(
        [sys.executable, "-c", INSTALL, str(zip_path)], env=env, capture_output=True, text=True, timeout=600
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert done.returncode == 0 and line, done.stdout + done.stderr
    return json.loads(line[len("REPORT ") :])


def test_staged_manifest_lists_wheels_and_platforms():
    text = (REPO / "blender_manifest.toml").read_text(encoding="utf-8")
    staged = build_extension.staged_manifest(text, ["linux-x64"], ["./wheels/a-1-py3-none-any.whl"])
    assert 'platforms = ["linux-x64"]' in staged and 'wheels = ["./wheels/a-1-py3-none-any.whl"]' in staged
    assert 'id = "partsdf"' in staged and 'blender_version_min = "4.2.0"' in staged
    assert "blender_version_max" not in staged


def test_staged_manifest_sets_the_blender_range_of_a_python_line():
    text = (REPO / "blender_manifest.toml").read_text(encoding="utf-8")
    cp311 = build_extension.staged_manifest(text, ["windows-x64"], [], "4.2.0", "5.1.0")
    assert 'blender_version_min = "4.2.0"\nblender_version_max = "5.1.0"' in cp311
    cp313 = build_extension.staged_manifest(cp311, ["windows-x64"], [], "5.1.0", None)
    assert 'blender_version_min = "5.1.0"' in cp313 and "blender_version_max" not in cp313
    tomllib = pytest.importorskip("tomllib")
    assert tomllib.loads(cp311)["blender_version_max"] == "5.1.0"


def test_fetch_wheels_excludes_numpy_and_pins_per_line(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# engine\ntorch==2.13.0\nnumpy>=1.26\nscipy>=1.11  # sparse\n")
    lines = fetch_wheels.requirements(requirements)
    assert lines == ["torch==2.13.0", "scipy>=1.11"]
    assert fetch_wheels.pinned_requirements(lines, "3.11", "linux-x64") == ["torch==2.13.0+cpu", "scipy==1.15.3"]
    assert fetch_wheels.pinned_requirements(lines, "3.13", "windows-x64") == ["torch==2.13.0", "scipy==1.18.1"]
    command = fetch_wheels.resolve_command("3.11", "linux-x64", lines, tmp_path / "r.json", tmp_path, [])
    assert "--only-binary=:all:" in command and "manylinux_2_28_x86_64" in command and "3.11" in command
    assert "--dry-run" in command and command[-1] == "numpy==1.24.3"


def test_pins_satisfy_requirements_txt():
    specifiers = pytest.importorskip("packaging.requirements")
    wanted = {fetch_wheels.package_name(x): x for x in fetch_wheels.requirements(REPO / "requirements.txt")}
    for python, pins in fetch_wheels.PINS.items():
        assert set(pins) == set(wanted), python
        for name, version in pins.items():
            assert specifiers.Requirement(wanted[name]).specifier.contains(version), (python, name, version)


def test_numpy_floor_is_the_oldest_blender_numpy_of_the_line():
    assert fetch_wheels.numpy_floor("3.11") == "1.24.3"  # Blender 4.2 LTS
    assert fetch_wheels.numpy_floor("3.13") == "2.2.6"


def test_numpy_violations_flag_wheels_needing_a_newer_numpy_than_blender_ships():
    def item(name, *requires):
        return {"metadata": {"name": name, "version": "1", "requires_dist": list(requires)}}

    items = [
        item("scipy", "numpy<2.6,>=1.25.2"),
        item("skimage", "numpy>=1.24"),
        item("winonly", 'numpy>=2.5; platform_system == "Windows"'),
        item("extra", 'numpy>=9; extra == "test"'),
        item("nonumpy", "tqdm"),
    ]
    problems = fetch_wheels.numpy_violations(items, "3.11", "linux-x64")
    assert problems == ["scipy 1 needs numpy<2.6,>=1.25.2; Blender 4.2: 1.24.3"]
    assert fetch_wheels.numpy_violations(items, "3.13", "linux-x64") == []
    assert fetch_wheels.numpy_violations(items, "3.13", "windows-x64") == [
        "winonly 1 needs numpy>=2.5; Blender floor: 2.2.6",
        "winonly 1 needs numpy>=2.5; Blender 5.1: 2.3.4",
    ]


def test_pip_evaluates_markers_for_the_target_platform(tmp_path):
    """pip on Linux would drop Windows-only requirements; the wrapper makes pip see the target's markers."""
    requirement = 'partsdf-no-such-package; sys_platform == "win32"'

    def dry_run(platform):
        env = json.dumps(fetch_wheels.marker_environment("3.13", platform))
        command = [sys.executable, "-c", fetch_wheels.PIP_WITH_MARKERS, env, "install", "--dry-run", "--no-index"]
        command += ["--ignore-installed", "--target", str(tmp_path / platform), "--quiet", requirement]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert dry_run("linux-x64").returncode == 0  # marker false: ignored
    assert dry_run("windows-x64").returncode != 0  # marker true: pip looks for it (no index) and fails


def test_index_merge_and_build_plan():
    def entry(python, platform, torch=True):
        folder = f"{fetch_wheels.LINES[python]['tag']}/{platform}"
        return {"python": python, "platform": platform, "dir": folder, "wheels": [], "torch_bundled": torch}

    index = fetch_wheels.merge_index({"sets": [entry("3.13", "linux-x64"), entry("3.11", "macos-arm64")]}, [])
    index = fetch_wheels.merge_index(index, [entry("3.11", "linux-x64"), entry("3.13", "linux-x64", torch=False)])
    assert [(s["python"], s["platform"], s["torch_bundled"]) for s in index["sets"]] == [
        ("3.11", "linux-x64", True),
        ("3.11", "macos-arm64", True),
        ("3.13", "linux-x64", False),
    ]
    builds = build_extension.plan(index["sets"], None, None, "per-python")
    assert [(b["name"], b["blender_min"], b["blender_max"]) for b in builds] == [
        ("linux-x64-py311", "4.2.0", "5.1.0"),
        ("macos-arm64-py311", "4.2.0", "5.1.0"),
        ("linux-x64-py313", "5.1.0", None),
    ]
    combined = build_extension.plan(index["sets"], None, ["linux-x64"], "combined")
    assert [(b["name"], b["pythons"], b["blender_min"], b["blender_max"]) for b in combined] == [
        ("linux-x64", ["3.11", "3.13"], "4.2.0", None)
    ]
    assert build_extension.zip_name("partsdf", "0.1.0", "linux-x64", "-py313") == "partsdf-0.1.0-linux_x64-py313.zip"


def test_build_install_and_enable_linux_extension(tmp_path):
    zips = build(tmp_path, "--no-wheels", "--platform", "linux-x64")
    assert [z.name for z in zips] == ["partsdf-0.1.0-linux_x64.zip"]
    names = zipfile.ZipFile(zips[0]).namelist()
    assert {"blender_manifest.toml", "__init__.py", "engine_link/contract.py", "engine/contract.py"} <= set(names)
    assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
    report = install(zips[0], SANDBOX / "install é", check_engine=engine_available())
    assert report["check"] == [True, True] and report["scene_prop"] and report["prefs"]
    assert report["root"].endswith(os.path.join("extensions", "user_default", "partsdf"))
    assert report["contract"] == os.path.join(report["root"], "engine", "contract.py"), "the bundled engine's contract"
    if engine_available():
        assert report["engine"].startswith("PartSDF engine"), report


@pytest.mark.skipif(not os.environ.get("PARTSDF_TEST_WHEELS"), reason="set PARTSDF_TEST_WHEELS=1 (slow, 1.3 GB)")
def test_build_with_wheels_installs_them(tmp_path):
    wheels = tmp_path / "wheels"
    fetch = [sys.executable, str(REPO / "scripts" / "fetch_wheels.py"), "--wheels-dir", str(wheels)]
    fetched = subprocess.run([*fetch, "--python", "3.11", "--platform", "linux-x64"], timeout=900)
    assert fetched.returncode == 0
    zips = build(tmp_path, "--wheels-dir", str(wheels))
    assert [z.name for z in zips] == ["partsdf-0.1.0-linux_x64-py311.zip"]
    report = install(zips[0], tmp_path / "sandbox", check_engine=engine_available())
    assert report["check"] == [True, True] and report["wheel_dirs"]

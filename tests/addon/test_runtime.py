"""The first-run PyTorch install: its pip command, the staging folder, and the clear refusal without torch."""

from __future__ import annotations

import sys

import bpy
import pytest
from conftest import make_lollipop

from blender_addon.engine_link import runtime
from blender_addon.ui import preferences


def test_install_command_downloads_the_cpu_build_or_takes_a_wheel_folder(tmp_path):
    online = runtime.install_command("/py", tmp_path / "t")
    assert online[:3] == ["/py", "-m", "pip"] and runtime.TORCH_REQUIREMENT in online
    assert online[online.index("--index-url") + 1] == runtime.CPU_INDEX and "--no-index" not in online
    assert online[online.index("--target") + 1] == str(tmp_path / "t")
    offline = runtime.install_command("/py", tmp_path / "t", find_links="/wheels")
    assert "--no-index" in offline and offline[offline.index("--find-links") + 1] == "/wheels"
    assert "numpy" not in " ".join(online + offline)


def test_a_finished_install_replaces_the_old_one_and_a_failed_one_leaves_nothing(tmp_path):
    target = runtime.runtime_folder(tmp_path)
    assert target.name == f"py{sys.version_info.major}{sys.version_info.minor}"
    first = runtime.staging_folder(target)
    (first / "torch").mkdir()
    runtime.commit(first, target)
    second = runtime.staging_folder(target)
    (second / "newer").mkdir()
    runtime.commit(second, target)
    assert sorted(p.name for p in target.iterdir()) == ["newer"]
    failed = runtime.staging_folder(target)
    runtime.discard(failed)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_the_engine_gets_the_installed_runtime_on_its_path(addon, prefs):
    folder = preferences.runtime_folder()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        assert str(folder) in preferences.engine_config(bpy.context).site_dirs
    finally:
        folder.rmdir()
    assert str(folder) not in preferences.engine_config(bpy.context).site_dirs


def test_without_torch_discover_refuses_with_one_line_that_says_what_to_do(scene, prefs, monkeypatch):
    # A Blender whose Python cannot import torch (Blender 5.1+ on Linux before the install); the real
    # case runs in the version matrix (scripts/blender_matrix.py).
    monkeypatch.setattr(runtime.importlib.util, "find_spec", lambda name: None)
    make_lollipop()
    with pytest.raises(RuntimeError, match="Install PyTorch"):
        bpy.ops.partsdf.discover_parts()
    assert "Lollipop parts" not in bpy.data.collections

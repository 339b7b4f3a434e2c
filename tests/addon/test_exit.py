"""A script that enables the add-on must leave the interpreter cleanly (exit code 0).

Blender 4.2 (bpy 4.2.x) keeps a reference to every registered PropertyGroup class; if such a
class holds a function (a method), that function's module globals keep ``bpy`` alive through
interpreter shutdown, bpy's exit code never runs and the process dies with SIGSEGV (139).
Run in a fresh interpreter, since the crash only shows when the process ends.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import tempfile

import bpy
import pytest
from conftest import ADDON, REPO

from blender_addon import _modules

SCRIPT = """
import os, sys, tempfile
os.environ["BLENDER_USER_RESOURCES"] = tempfile.mkdtemp()
import bpy
sys.path.insert(0, {repo!r})
import addon_utils
addon_utils.enable({addon!r}, default_set=True)
assert addon_utils.check({addon!r}) == (True, True)
if {disable!r}:
    addon_utils.disable({addon!r}, default_set=True)
if {explicit_exit!r}:
    sys.exit(0)
"""


@pytest.mark.parametrize("disable", [False, True], ids=["enabled", "disabled"])
@pytest.mark.parametrize("explicit_exit", [False, True], ids=["fall-off", "sys.exit"])
def test_process_exits_cleanly(addon, tmp_path, disable, explicit_exit):
    script = tmp_path / "exit_check.py"
    script.write_text(SCRIPT.format(repo=str(REPO), addon=ADDON, disable=disable, explicit_exit=explicit_exit))
    env = {**os.environ, "BLENDER_USER_RESOURCES": tempfile.mkdtemp(dir=tmp_path)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, f"exit code {done.returncode}\n{done.stdout}\n{done.stderr}"


def test_property_groups_define_no_functions():
    """The cheap, version-independent guard for the same bug: no functions in PropertyGroup classes."""
    groups = [cls for module in _modules for cls in module.classes if issubclass(cls, bpy.types.PropertyGroup)]
    names = {cls.__name__ for cls in groups}
    assert names >= {"PARTSDF_PG_run_settings", "PARTSDF_PG_part", "PARTSDF_PG_object_result", "PARTSDF_PG_scene"}
    for cls in groups:
        functions = [name for name, value in vars(cls).items() if inspect.isfunction(value)]
        assert functions == [], f"{cls.__name__} defines {functions}; use module functions instead"

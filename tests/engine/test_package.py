"""What ships: the engine imports without bpy, never imports the benchmark, and its contract is stdlib-only."""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import engine

REPOSITORY = Path(__file__).resolve().parents[2]
ENGINE = REPOSITORY / "engine"

BLOCK_BPY = """
import importlib.abc, sys
class NoBlender(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('bpy', 'bmesh', 'mathutils', 'addon_utils'):
            raise ImportError(f'{name} is not importable here')
sys.meta_path.insert(0, NoBlender())
"""


def engine_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(engine.__path__, "engine.") if not m.name.endswith("__main__"))


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_engine_module_imports_where_bpy_cannot_be_imported():
    modules = engine_modules()
    assert {"engine.pipeline", "engine.mesh.graph", "engine.field.model", "engine.segment.clustering",
            "engine.parts.part_fields"} <= set(modules)
    out = run_python(BLOCK_BPY + f"""
import importlib, json
for name in {modules!r}:
    importlib.import_module(name)
try:
    import bpy
except ImportError:
    blocked = True
else:
    blocked = False
print(json.dumps({{"blocked": blocked, "bpy": "bpy" in sys.modules}}))
""")
    assert json.loads(out.splitlines()[-1]) == {"blocked": True, "bpy": False}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports (absolute imports only)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_engine_never_imports_blender_or_the_benchmark():
    offenders = {str(p.relative_to(REPOSITORY)): sorted(imported_roots(p) & {"bpy", "bmesh", "bench", "tests"})
                 for p in ENGINE.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_contract_needs_only_the_standard_library():
    out = run_python("""
import json, sys
import engine.contract
heavy = sorted(m for m in ("numpy", "torch", "scipy", "trimesh") if m in sys.modules)
print(json.dumps(heavy))
""")
    assert json.loads(out.splitlines()[-1]) == []
    assert imported_roots(ENGINE / "contract.py") <= set(sys.stdlib_module_names) | {"__future__"}

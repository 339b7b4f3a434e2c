"""The built Linux extension zips in every supported Blender line (bpy modules), end to end.

    python scripts/blender_matrix.py [--lines 4.2 4.5 5.0 5.1] [--dist dist] [--markdown docs/blender_matrix.md]

For each line: a Python like that Blender's (bpy and the numpy that Blender ships, nothing else;
Blender 5.1's Python 3.13 inside the Debian trixie root of scripts/py313_root.sh), then
tests/matrix/extension_check.py with the zip for that line: install into a sandbox, enable,
(Install PyTorch where the zip has none), Discover Parts on a small mesh, check the write-back,
disable, exit code 0. Prints one row per line and exits 1 if any line failed.
Run `make extension` (or `make matrix`, which builds the Linux zips first) before.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tests" / "matrix" / "extension_check.py"
WORK = ROOT / "build" / "matrix"
PY313_ROOT_SCRIPT = ROOT / "scripts" / "py313_root.sh"
PY313_CACHE = Path("/opt/partsdf-cache")
TORCH_WHEELS = PY313_CACHE / "torch-full"  # torch 2.13.0 cp313 and all it needs, for Install PyTorch offline
CHECK_TIMEOUT_S = 1200


@dataclass(frozen=True)
class Line:
    """A Blender line: its bpy module, its Python and the numpy that Blender ships."""

    name: str
    bpy: str
    python: str
    numpy: str

    @property
    def tag(self) -> str:
        return "py" + self.python.replace(".", "")


LINES = {
    "4.2": Line("4.2 LTS", "4.2.23", "3.11", "1.24.3"),
    "4.5": Line("4.5 LTS", "4.5.15", "3.11", "1.26.4"),
    "5.0": Line("5.0", "5.0.1", "3.11", "1.26.4"),
    "5.1": Line("5.1", "5.1.2", "3.13", "2.3.4"),
}


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    sys.stderr.write("blender_matrix: " + " ".join(command)[:200] + "\n")
    return subprocess.run(command, check=True, **kwargs)


def host_python(line: Line) -> list[str]:
    """A venv of this machine's Python with only bpy and numpy (Python 3.11 lines)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" != line.python:
        raise SystemExit(f"blender_matrix: Blender {line.name} needs Python {line.python}; run with that Python")
    venv = WORK / f"venv-bpy-{line.bpy}"
    python = venv / "bin" / "python"
    if not (venv / ".ready").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(python), "-m", "pip", "install", "-q", f"bpy=={line.bpy}", f"numpy=={line.numpy}"])
        (venv / ".ready").touch()
    return [str(python)]


def root_python(line: Line) -> list[str]:
    """Python 3.13 inside the trixie root with only bpy and numpy; the torch wheels for Install PyTorch."""
    run(["bash", str(PY313_ROOT_SCRIPT), "setup"], env=_env(PY313_TORCH="none", PY313_EXTRA="pip"),
        stdout=subprocess.DEVNULL)
    venv = f"/opt/venv-bpy-{line.bpy}"
    inside = ["bash", str(PY313_ROOT_SCRIPT), "run"]
    script = (f"[ -f {venv}/.ready ] || {{ python3 -m venv {venv} && "
              f"{venv}/bin/pip install -q bpy=={line.bpy} numpy=={line.numpy} && touch {venv}/.ready; }}; "
              f"ls {TORCH_WHEELS}/torch-*.whl >/dev/null 2>&1 || "
              f"pip download -q -d {TORCH_WHEELS} --only-binary=:all: torch==2.13.0")
    run(inside + ["sh", "-ec", script])
    return inside + [f"{venv}/bin/python"]


def _env(**extra: str) -> dict:
    import os

    return {**os.environ, **extra}


def check_line(line: Line, dist: Path) -> dict:
    """Run the end-to-end check of one line; returns its report (with ok False and the error on failure)."""
    zip_path = next(iter(sorted(dist.glob(f"partsdf-*-linux_x64-{line.tag}.zip"))), None)
    if zip_path is None:
        return {"line": line.name, "ok": False, "error": f"no linux zip for {line.tag} in {dist}: make extension"}
    python = root_python(line) if line.python == "3.13" else host_python(line)
    sandbox_name = f"sandbox-{line.bpy}"
    sandbox = WORK / sandbox_name
    shutil.rmtree(sandbox, ignore_errors=True)
    sandbox.mkdir(parents=True)
    report_path = WORK / f"report-{line.bpy}.json"
    report_path.unlink(missing_ok=True)
    command = python + [str(CHECK), "--zip", str(zip_path.resolve()), "--report", str(report_path),
                        "--torch-wheels", str(TORCH_WHEELS)]
    started = time.monotonic()
    done = subprocess.run(command, env=_env(BLENDER_USER_RESOURCES=str(sandbox)), capture_output=True, text=True,
                          timeout=CHECK_TIMEOUT_S)
    shutil.rmtree(sandbox, ignore_errors=True)
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    report.update(line=line.name, bpy=line.bpy, numpy=line.numpy, exit_code=done.returncode,
                  total_s=round(time.monotonic() - started, 1))
    report["ok"] = bool(report.get("ok")) and done.returncode == 0
    if not report["ok"]:
        output = [text for text in (done.stderr + done.stdout).strip().splitlines() if text.strip()]
        sys.stderr.write(f"blender_matrix: {line.name} failed; the check's last output:\n"
                         + "\n".join(output[-40:]) + "\n")
        report["error"] = output[-1][-200:] if output else f"exit code {done.returncode}, no output"
    return report


def markdown(reports: list[dict]) -> str:
    rows = ["| Blender | bpy | Python | numpy | zip | torch | install s | Discover s | exit | result |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        torch = "bundled" if r.get("torch_bundled") else (
            f"installed by the add-on ({r['torch_install_s']} s)" if "torch_install_s" in r else "?")
        rows.append(f"| {r['line']} | {r.get('bpy', '')} | {r.get('python', '')} | {r.get('numpy', '')} | "
                    f"{r.get('zip', '')} | {torch} | {r.get('install_s', '')} | {r.get('discover_s', '')} | "
                    f"{r.get('exit_code', '')} | {'ok' if r['ok'] else 'FAILED: ' + r.get('error', '')[:200]} |")
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", nargs="*", choices=sorted(LINES), default=sorted(LINES))
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    reports = [check_line(LINES[name], args.dist) for name in args.lines]
    table = markdown(reports)
    print(table)
    if args.markdown:
        args.markdown.write_text("# Blender versions, measured\n\n`python scripts/blender_matrix.py` "
                                 "(Linux zips, bpy modules, this 2-core machine):\n\n" + table)
    passed = sum(r["ok"] for r in reports)
    print(f"matrix: {passed} passed, {len(reports) - passed} failed")
    return 0 if passed == len(reports) else 1


if __name__ == "__main__":
    sys.exit(main())

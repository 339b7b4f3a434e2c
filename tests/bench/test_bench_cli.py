"""``python -m bench`` and its subcommands parse their options; the engine's CLI has no benchmark."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--help",), "usage: python -m bench"),
        (("memory", "--help"), "usage: python -m bench memory"),
        (("sdf-compare", "--help"), "usage: python -m bench sdf-compare"),
        (("threads", "--help"), "usage: python -m bench threads"),
    ],
)
def test_help_of_each_command(args, expected):
    done = run_module("bench", *args)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


@pytest.mark.parametrize("args", [("--no-such-option",), ("memory", "--no-such-option"), ("sdf-compare", "--oops")])
def test_a_bad_option_fails(args):
    done = run_module("bench", *args)
    assert done.returncode != 0
    assert "unrecognized arguments" in done.stderr


def test_the_engine_cli_has_no_bench_command():
    done = run_module("engine", "bench")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr

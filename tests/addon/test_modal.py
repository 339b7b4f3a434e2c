"""The modal path of Discover Parts, driven tick by tick.

Headless Blender has no window or event loop, so these tests call the
operator's ``invoke``-side pieces and ``modal`` with stand-in timer and key
events and a context whose window manager and workspace record calls; the
engine is a real subprocess (the fake engine) and the write-back is real.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import bpy
from conftest import make_lollipop, scene_fingerprint

from blender_addon.operators import jobs, run

Operator = run.PARTSDF_OT_discover_parts


class ModalDriver:
    """Calls the operator class's own methods on a plain object (Blender operators cannot be instantiated)."""

    _start, _end, _stop_ui, modal, cancel, _pieces = (
        Operator._start,
        Operator._end,
        Operator._stop_ui,
        Operator.modal,
        Operator.cancel,
        Operator._pieces,
    )
    kind = Operator.kind

    def __init__(self):
        self.reports: list[tuple] = []
        self.status: list = []
        self._timer = object()
        self.context = SimpleNamespace(
            window_manager=SimpleNamespace(event_timer_remove=lambda timer: None),
            workspace=SimpleNamespace(status_text_set=self.status.append),
            screen=None,
            active_object=bpy.context.active_object,
            scene=bpy.context.scene,
            preferences=bpy.context.preferences,
        )

    def report(self, level, message):
        self.reports.append((next(iter(level)), message))

    def tick(self, event_type: str = "TIMER") -> set:
        return self.modal(self.context, SimpleNamespace(type=event_type, value="PRESS"))

    def showed_progress(self) -> bool:
        return any(isinstance(s, str) and s.startswith("PartSDF: fitting") for s in self.status)

    def run(self, limit_s: float = 20.0, cancel: bool = False) -> set:
        """Tick until the operator ends; with ``cancel``, press Esc once the status bar shows progress."""
        deadline, escaped = time.monotonic() + limit_s, False
        while time.monotonic() < deadline:
            escape = cancel and not escaped and self.showed_progress()
            escaped |= escape
            outcome = self.tick("ESC" if escape else "TIMER")
            if outcome not in ({"PASS_THROUGH"}, {"RUNNING_MODAL"}):
                return outcome
            time.sleep(run.TIMER_S)
        raise AssertionError("the modal operator never finished")


def test_modal_run_shows_progress_and_writes_back(scene, prefs, fake_python):
    prefs.python_path = fake_python("ok")
    obj = make_lollipop()
    driver = ModalDriver()
    assert driver._start(driver.context)
    assert driver.tick("MOUSEMOVE") == {"PASS_THROUGH"}, "the viewport keeps getting its events"
    assert driver.run() == {"FINISHED"}
    assert len(obj.partsdf.parts) == 3 and jobs.active_job() is None
    assert driver.status[-1] is None, "the status bar text is cleared"
    assert driver.reports[-1][0] == "INFO" and "3 parts" in driver.reports[-1][1]


def test_escape_cancels_and_changes_nothing(scene, prefs, fake_python):
    prefs.python_path = fake_python("hang")
    make_lollipop()
    before = scene_fingerprint()
    driver = ModalDriver()
    assert driver._start(driver.context)
    assert driver.run(cancel=True) == {"CANCELLED"}
    assert driver.showed_progress()
    assert driver.reports[-1] == ("WARNING", "PartSDF: cancelled, the scene is unchanged")
    assert scene_fingerprint() == before and jobs.active_job() is None


def test_blender_cancelling_the_modal_stops_the_engine(scene, prefs, fake_python):
    prefs.python_path = fake_python("hang")
    make_lollipop()
    driver = ModalDriver()
    assert driver._start(driver.context)
    job = jobs.active_job()
    driver.tick()
    driver.cancel(driver.context)
    assert not job.process.running and not job.job_dir.exists() and jobs.active_job() is None

"""The warm engine (engine_link.warm) with the real engine: kept between runs, replaced when it dies,
a cancel stops only the request, closing the file ends it."""

from __future__ import annotations

import os
import signal

import bpy
import pytest
from conftest import engine_available, make_lollipop, scene_fingerprint, wait_for_training

from blender_addon import _shutdown
from blender_addon.engine_link import warm
from blender_addon.operators import jobs, live_recluster

pytestmark = pytest.mark.skipif(not engine_available(), reason="the engine CLI is not there")


@pytest.fixture
def warm_settings(scene, prefs):
    settings = scene.partsdf.settings
    settings.quality, settings.auto_parts, settings.parts, settings.build_meshes = "fast", False, 2, False
    prefs.keep_engine = True
    yield settings
    warm.close()


def engine_pid() -> int:
    engine = warm.current_engine()
    assert engine is not None and engine.alive
    return engine.process.pid


def test_runs_share_one_engine_that_stays_loaded(warm_settings, prefs):
    obj = make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    pid = engine_pid()
    warm_settings.parts = 3
    assert bpy.ops.partsdf.recluster() == {"FINISHED"}
    assert engine_pid() == pid, "the re-cluster ran in the same engine process"
    assert len(obj.partsdf.parts) == 3


def test_a_dead_engine_is_replaced_by_the_next_run(warm_settings, prefs):
    make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    pid = engine_pid()
    os.kill(pid, signal.SIGKILL)
    warm.current_engine().process.wait()
    assert bpy.ops.partsdf.recluster() == {"FINISHED"}
    assert engine_pid() != pid


def test_an_engine_killed_mid_run_fails_the_run_cleanly_and_the_next_run_works(warm_settings, prefs):
    make_lollipop()
    before = scene_fingerprint()
    job = jobs.start_job(bpy.context)
    wait_for_training(job)
    os.kill(engine_pid(), signal.SIGKILL)
    outcome = job.process.wait(interval=0.05)
    assert not outcome.ok and "killed by signal 9" in outcome.message
    result, level, message = jobs.finish_job(bpy.context, job)
    assert result == {"CANCELLED"} and level == "ERROR" and scene_fingerprint() == before, message
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}


def test_cancel_stops_the_request_and_keeps_the_engine(warm_settings, prefs):
    make_lollipop()
    before = scene_fingerprint()
    job = jobs.start_job(bpy.context)
    jobs._active = job
    try:
        wait_for_training(job)
        pid = engine_pid()
        jobs.request_cancel()
        assert job.process.wait(interval=0.05).cancelled
    finally:
        jobs._active = None
    jobs.finish_job(bpy.context, job)
    assert scene_fingerprint() == before and engine_pid() == pid, "only the request was stopped"
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    assert engine_pid() == pid


def test_loading_a_file_or_quitting_ends_the_engine(warm_settings, prefs):
    make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    engine = warm.current_engine()
    _shutdown()  # what file load, add-on disable and quit call
    assert warm.current_engine() is None and engine.process.poll() is not None


def test_a_count_change_re_clusters_after_a_pause(warm_settings, prefs):
    obj = make_lollipop()
    warm_settings.parts = 3
    assert not bpy.app.timers.is_registered(live_recluster.recluster_now), "no parts yet: nothing to re-cluster"
    warm_settings.parts = 2
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    warm_settings.parts = 3
    assert bpy.app.timers.is_registered(live_recluster.recluster_now)
    assert live_recluster.recluster_now() is None  # what the timer runs once the value has rested
    assert len(obj.partsdf.parts) == 3
    live_recluster.cancel_pending()
    warm_settings.live_recluster = False
    warm_settings.parts = 2
    assert not bpy.app.timers.is_registered(live_recluster.recluster_now)


def test_a_newer_count_cancels_a_running_re_cluster_first(warm_settings, prefs):
    make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    warm_settings.parts = 3
    live_recluster.cancel_pending()
    job = jobs.begin(bpy.context, jobs.RECLUSTER, 2)
    try:
        assert live_recluster.recluster_now() == live_recluster.RETRY_S, "it waits for the old run to stop"
        assert job.cancel_requested
        job.process.wait(interval=0.05)
    finally:
        jobs.end(bpy.context, job)
    assert live_recluster.recluster_now() is None and jobs.active_job() is None


def test_turning_keep_engine_off_ends_the_idle_engine(warm_settings, prefs):
    make_lollipop()
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    engine = warm.current_engine()
    prefs.keep_engine = False
    assert warm.current_engine() is None and engine.process.poll() is not None
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}, "runs go on, a process each"
    assert warm.current_engine() is None


def test_an_engine_prepared_ahead_takes_the_first_click(warm_settings, prefs):
    """The panel's warm-up starts the engine before Discover; the click runs in it, and the parts come
    at LABELS before the part meshes."""
    from blender_addon.ui import preferences

    make_lollipop()
    config = preferences.engine_config(bpy.context)
    assert not warm.is_ready(config)
    pid = warm.prepare(config).process.pid
    assert warm.is_ready(config) and warm.prepare(config).process.pid == pid, "a ready engine is kept"
    warm_settings.build_meshes = True
    assert bpy.ops.partsdf.discover_parts() == {"FINISHED"}
    assert engine_pid() == pid, "Discover ran in the prepared engine"
    times = jobs.last_run_times()
    assert times.kind == "discover" and times.parts_s is not None and 0 < times.parts_s < times.total_s

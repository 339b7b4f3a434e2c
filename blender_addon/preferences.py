"""Add-on preferences (engine device, threads, cache, external Python) and the engine check."""

from __future__ import annotations

import os
import sys
import time

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

from . import client

DEVICE_ITEMS = (
    ("auto", "Auto", "CUDA or Apple MPS when available, else the CPU"),
    ("cpu", "CPU", "Always run on the CPU"),
    ("cuda", "CUDA", "NVIDIA GPU (needs a CUDA build of torch, see External Python)"),
    ("mps", "MPS", "Apple Silicon GPU"),
)
CHECK_TIMEOUT_S = 120.0
_last_check = {"text": "", "ok": False}


class PARTSDF_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    device: EnumProperty(name="Device", items=DEVICE_ITEMS, default="auto", description="Where the engine computes")
    threads: IntProperty(name="CPU Threads", default=0, min=0, max=256, description="CPU threads (0: automatic)")
    cache_dir: StringProperty(
        name="Cache Folder", subtype="DIR_PATH", description="Folder for temporary job files (empty: system temp)"
    )
    python_path: StringProperty(
        name="External Python",
        subtype="FILE_PATH",
        description="Python interpreter with its own torch and engine requirements (empty: Blender's Python "
        "with the bundled wheels). Use it for a CUDA build of torch on Linux",
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "device")
        layout.prop(self, "threads")
        layout.prop(self, "cache_dir")
        layout.prop(self, "python_path")
        row = layout.row()
        row.operator(PARTSDF_OT_check_engine.bl_idname, icon="CHECKMARK")
        if _last_check["text"]:
            row.label(text=_last_check["text"], icon="INFO" if _last_check["ok"] else "ERROR")


def wheel_site_packages() -> tuple[str, ...]:
    """Site-packages folders on sys.path where Blender installed extension wheels (user and system repos)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    folders = []
    for resource in (bpy.utils.user_resource, bpy.utils.system_resource):
        try:
            base = resource("EXTENSIONS")
        except (TypeError, ValueError):  # a Blender without extension folders of that kind
            continue
        if base:
            folders.append(os.path.join(base, ".local", "lib", version, "site-packages"))
    return tuple(f for f in folders if os.path.isdir(f) and f in sys.path)


def engine_config(context=None) -> client.EngineConfig:
    """The engine configuration from the preferences (defaults when the add-on is registered by hand)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    prefs = getattr(addon, "preferences", None)
    if prefs is None:
        return client.EngineConfig(site_dirs=wheel_site_packages())
    return client.EngineConfig(
        python=bpy.path.abspath(prefs.python_path) if prefs.python_path else "",
        device=prefs.device,
        threads=prefs.threads,
        cache_dir=bpy.path.abspath(prefs.cache_dir) if prefs.cache_dir else "",
        site_dirs=wheel_site_packages(),
    )


def describe_info(info: dict) -> str:
    """One line from the engine's ``info`` JSON object."""
    device = info.get("device", "?")
    return f"PartSDF engine {info.get('engine_version', '?')}, torch {info.get('torch', '?')}, device {device}"


class PARTSDF_OT_check_engine(bpy.types.Operator):
    """Start the engine once and report its torch version and compute device"""

    bl_idname = "partsdf.check_engine"
    bl_label = "Check Engine"
    bl_options = {"INTERNAL"}

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        self._start(context)
        self._timer = context.window_manager.event_timer_add(0.2, window=context.window)
        context.window_manager.modal_handler_add(self)
        _last_check.update(text="Checking the engine...", ok=True)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        self._messages += self._process.poll()
        if time.monotonic() > self._deadline:
            self._process.cancel()
        if self._process.running:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        return self._finish()

    def execute(self, context):
        self._start(context)
        self._process.wait(on_event=self._messages.append)
        return self._finish()

    def cancel(self, context):
        self._process.stop()

    def _start(self, context) -> None:
        config = engine_config(context)
        command, env = client.info_command(config), client.engine_env(config)
        self._process = client.EngineProcess(command, env, decoder=client.decode_json_object).start()
        self._messages: list[dict] = []
        self._deadline = time.monotonic() + CHECK_TIMEOUT_S

    def _finish(self):
        outcome = self._process.outcome
        info = next((m for m in self._messages if "torch" in m), None)
        if info is not None and outcome.exit_code == 0:
            _last_check.update(text=describe_info(info), ok=True)
            self.report({"INFO"}, _last_check["text"])
            return {"FINISHED"}
        _last_check.update(text=f"Engine check failed: {outcome.message}", ok=False)
        self.report({"ERROR"}, _last_check["text"])
        return {"CANCELLED"}


classes = (PARTSDF_OT_check_engine, PARTSDF_AP_preferences)


register, unregister = bpy.utils.register_classes_factory(classes)

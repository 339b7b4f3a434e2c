"""Add-on preferences (engine device, threads, cache, external Python), the engine check and the torch install."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from ..engine_link import client, runtime, warm

ADDON = __package__.rpartition(".")[0]  # the add-on's package: preferences and user folder are keyed by it

DEVICE_ITEMS = (
    ("auto", "Auto", "CUDA or Apple MPS when available, else the CPU"),
    ("cpu", "CPU", "Always run on the CPU"),
    ("cuda", "CUDA", "NVIDIA GPU (needs a CUDA build of torch, see External Python)"),
    ("mps", "MPS", "Apple Silicon GPU"),
)
CHECK_TIMEOUT_S = 120.0
_last_check = {"text": "", "ok": False}
_install = {"text": "", "ok": True, "running": False}
TORCH_MISSING = ("PyTorch is not installed for this Blender (the Linux package for Blender 5.1+ cannot bundle "
                 "it): Edit > Preferences > Add-ons > PartSDF > Install PyTorch")


def _keep_engine_changed(prefs, context) -> None:
    """Turned off: end the idle warm engine now (a running request keeps it until the next run replaces it)."""
    from ..operators import jobs

    if not prefs.keep_engine and jobs.active_job() is None:
        warm.close()


class PARTSDF_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON

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
    keep_engine: BoolProperty(
        name="Keep Engine Running", default=True, update=_keep_engine_changed,
        description="Keep one engine process between runs (torch loaded once: Re-cluster and Rebuild start at "
        "once); it ends with the file, the add-on or Blender",
    )
    torch_index_url: StringProperty(
        name="PyTorch Index", default=runtime.CPU_INDEX,
        description="Package index Install PyTorch downloads the CPU build from",
    )
    torch_find_links: StringProperty(
        name="Wheel Folder", subtype="DIR_PATH",
        description="Install PyTorch from this folder of wheels instead of downloading (offline machines)",
    )

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.prop(self, "device")
        layout.prop(self, "threads")
        layout.prop(self, "cache_dir")
        layout.prop(self, "python_path")
        layout.prop(self, "keep_engine")
        row = layout.row()
        row.operator(PARTSDF_OT_check_engine.bl_idname, icon="CHECKMARK")
        if _last_check["text"]:
            row.label(text=_last_check["text"], icon="INFO" if _last_check["ok"] else "ERROR")
        if not self.python_path:
            draw_torch_status(layout, self)


def draw_torch_status(layout, prefs=None) -> None:
    """Where the engine's torch comes from, or the button that installs it."""
    folder = runtime_folder()
    box = layout.box()
    if _install["running"]:
        box.label(text=f"Installing PyTorch: {_install['text']}", icon="TIME")
    elif runtime.has_torch(folder):
        box.label(text="PyTorch: ready", icon="CHECKMARK")
    else:
        box.label(text="PyTorch is not installed for this Blender", icon="ERROR")
        if prefs is not None:
            box.prop(prefs, "torch_index_url")
            box.prop(prefs, "torch_find_links")
        box.operator(PARTSDF_OT_install_torch.bl_idname, icon="IMPORT")
    if _install["text"] and not _install["running"] and not _install["ok"]:
        box.label(text=_install["text"], icon="ERROR")


def user_folder() -> Path:
    """The extension's own user folder (kept across updates of the extension); not created here (UI draws ask)."""
    try:
        return Path(bpy.utils.extension_path_user(ADDON))
    except ValueError:  # loaded as a legacy add-on (a development checkout)
        return Path(bpy.utils.user_resource("CONFIG", path="partsdf"))


def runtime_folder() -> Path:
    return runtime.runtime_folder(user_folder())


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
    addon = context.preferences.addons.get(ADDON)
    prefs = getattr(addon, "preferences", None)
    site_dirs = wheel_site_packages()
    installed = runtime_folder()
    if installed.is_dir():
        site_dirs += (str(installed),)
    if prefs is None:
        return client.EngineConfig(site_dirs=site_dirs)
    return client.EngineConfig(
        python=bpy.path.abspath(prefs.python_path) if prefs.python_path else "",
        device=prefs.device,
        threads=prefs.threads,
        cache_dir=bpy.path.abspath(prefs.cache_dir) if prefs.cache_dir else "",
        site_dirs=site_dirs,
        keep_warm=prefs.keep_engine,
    )


def check_torch(config: client.EngineConfig) -> None:
    """Raise RuntimeError with the one line that says what to do when Blender's Python has no torch."""
    if not config.python and not runtime.has_torch(runtime_folder()):
        raise RuntimeError(TORCH_MISSING)


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


class PARTSDF_OT_install_torch(bpy.types.Operator):
    """Install PyTorch's CPU build into this extension's own folder with Blender's pip (asks first)"""

    bl_idname = "partsdf.install_torch"
    bl_label = "Install PyTorch"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context):
        if _install["running"]:
            cls.poll_message_set("PyTorch is being installed")
            return False
        return True

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        source = _prefs(context).torch_find_links or _prefs(context).torch_index_url
        return context.window_manager.invoke_confirm(
            self, event, title="Install PyTorch?", confirm_text="Install",
            message=f"PartSDF needs PyTorch: {runtime.DOWNLOAD_NOTE}, from {source}, into the extension's folder")

    def execute(self, context):
        self._start(context)
        if bpy.app.background or context.window is None:
            self._process.wait(on_event=self._show)
            return self._finish()
        self._timer = context.window_manager.event_timer_add(0.25, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        for message in self._process.poll():
            self._show(message)
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        if self._process.running:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        return self._finish()

    def cancel(self, context):
        self._process.stop()
        runtime.discard(self._staging)
        _install.update(running=False, ok=False, text="PyTorch install stopped")

    def _start(self, context) -> None:
        prefs = _prefs(context)
        self._runtime = runtime_folder()
        self._staging = runtime.staging_folder(self._runtime)
        find_links = bpy.path.abspath(prefs.torch_find_links) if prefs.torch_find_links else ""
        command = runtime.install_command(sys.executable, self._staging, prefs.torch_index_url, find_links)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")}
        self._process = client.EngineProcess(command, env, decoder=runtime.decode_pip_line).start()
        _install.update(running=True, ok=True, text="starting pip")

    def _show(self, message: dict) -> None:
        _install["text"] = str(message.get("message", ""))[:80]
        if bpy.app.background:
            sys.stderr.write(f"PartSDF: {_install['text']}\n")

    def _finish(self):
        outcome = self._process.outcome
        _install["running"] = False
        if outcome.exit_code == 0 and (self._staging / "torch" / "__init__.py").is_file():
            runtime.commit(self._staging, self._runtime)
            _install.update(ok=True, text="")
            self.report({"INFO"}, f"PartSDF: PyTorch installed in {self._runtime}")
            return {"FINISHED"}
        runtime.discard(self._staging)
        tail = next((line for line in reversed(self._process.stderr_tail) if line.strip()), outcome.message)
        _install.update(ok=False, text=f"PyTorch install failed: {tail[:160]}")
        self.report({"ERROR"}, _install["text"])
        return {"CANCELLED"}


def _prefs(context):
    return context.preferences.addons[ADDON].preferences


classes = (PARTSDF_OT_check_engine, PARTSDF_OT_install_torch, PARTSDF_AP_preferences)


register, unregister = bpy.utils.register_classes_factory(classes)

"""PartSDF: unsupervised part discovery for Blender meshes.

The add-on reads the active mesh, runs the PartSDF engine in a subprocess
(``python -m engine segment``, JSON-lines events) and writes the parts back
as vertex groups, materials, a colour attribute and per-part objects.
Metadata lives in ``blender_manifest.toml`` (Blender 4.2+ extension).
"""

from __future__ import annotations

import atexit

import bpy
from bpy.app.handlers import persistent

from . import client, edit_operators, operators, panel, part_operators, preferences, properties

_modules = (properties, preferences, operators, part_operators, edit_operators, panel)


@persistent
def _stop_engine_on_load(*_args) -> None:
    """Loading another file stops a running engine; the new file is never written to."""
    _shutdown()


def _shutdown() -> None:
    operators.abort_active()
    client.stop_all()


def register() -> None:
    for module in _modules:
        module.register()
    bpy.app.handlers.load_pre.append(_stop_engine_on_load)
    atexit.register(_shutdown)


def unregister() -> None:
    atexit.unregister(_shutdown)
    if _stop_engine_on_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_stop_engine_on_load)
    _shutdown()
    for module in reversed(_modules):
        module.unregister()

"""PartSDF: unsupervised part discovery for Blender meshes.

The add-on reads the active mesh, runs the PartSDF engine in a subprocess
(``python -m engine segment``, JSON-lines events) and writes the parts back
as vertex groups, materials, a colour attribute and per-part objects.
Metadata lives in ``blender_manifest.toml`` (Blender 4.2+ extension).

Sub-packages, by concern:

- ``engine_link``: no bpy; the engine's contract, the subprocess client, the result reader, the torch runtime.
- ``scene``: reading the mesh and writing parts back; the views derived from the part-id attribute.
- ``operators``: engine runs (``jobs`` and ``run``), part edits (``edit``), the parts list's buttons.
- ``ui``: property groups, preferences, the sidebar panel and menu.

This module is the registration entry.
"""

from __future__ import annotations

import atexit

import bpy
from bpy.app.handlers import persistent

from .engine_link import client, warm
from .operators import edit, jobs, part_list, run
from .ui import panel, preferences, properties

# Registered in this order, unregistered in the reverse one; each module has a ``classes`` tuple.
_modules = (properties, preferences, run, part_list, edit, panel)


@persistent
def _stop_engine_on_load(*_args) -> None:
    """Loading another file stops a running engine; the new file is never written to."""
    _shutdown()


def _shutdown() -> None:
    jobs.abort_active()
    client.stop_all()
    warm.close()


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

"""Part discovery over an asset library: ``python -m engine batch INPUT -o OUT``.

``inputs`` finds the meshes and names their output folders, ``tasks`` runs one
input as its own engine process (``python -m engine segment``, or Blender with
``scripts/batch_segment.py`` for a .blend), ``scheduling`` spreads the tasks over
the cores (a thread pool of engine processes, or Ray tasks on this machine or a
cluster), ``summary`` writes ``summary.json`` and ``summary.csv``. Each input is
its own process, so a crash or a kill costs that input only.
"""

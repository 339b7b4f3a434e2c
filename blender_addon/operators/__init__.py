"""The operators: engine runs (``run``, driven by ``jobs``), part edits (``edit``) and the parts list's buttons."""

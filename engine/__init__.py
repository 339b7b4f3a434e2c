"""PartSDF engine: neural SDF fitting, activation probing and part discovery (no bpy)."""

__version__ = "0.1.0"

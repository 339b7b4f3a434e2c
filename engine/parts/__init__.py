"""Stage 4, the part volumes: interior ownership, the per-part SDF network, part meshes."""

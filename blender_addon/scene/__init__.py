"""The scene side: reading a mesh for the engine, writing parts back, and the views derived from the part ids."""

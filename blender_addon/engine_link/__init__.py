"""The add-on's link to the engine: its contract, the subprocess client, the result reader, the torch runtime.

Nothing here imports bpy or the engine package (torch never loads in Blender's process).
"""

"""3D: the Blender/Cycles tabletop scene, deterministic physics, the render server process and the
BlenderProc compatibility layer for pip bpy."""

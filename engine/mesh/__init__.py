"""Stage 0, the mesh: reading files in declared vertex order, welding, winding, graph, sampling, marching cubes."""

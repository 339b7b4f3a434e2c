"""Stage 3, the parts: surface graph, spectral clustering, instances, convexity merges, types, classifier."""

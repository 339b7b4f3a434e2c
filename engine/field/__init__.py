"""Stages 1-2, the field: SDF ground truth, the DeepSDF-style decoder, its training, probing its activations."""

"""The cross-shape backbone (issue 14): one decoder shared by many shapes, a latent code per shape."""

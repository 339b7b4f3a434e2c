"""A procedural collection of compound shapes with analytic SDFs, for the cross-shape backbone (issue 14).

``primitives`` are oriented SDFs over (n, 3) arrays; ``families`` build shapes from them in five families
that share part kinds; ``shapes`` poses them and names each point's part instance and kind; ``samples``
draws training points. Ground truth is for evaluation only: training reads distances, never labels.
"""

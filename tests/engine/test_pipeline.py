"""engine.pipeline.run leaves the caller's objects as they were."""

from dataclasses import replace

import numpy as np
import torch

from engine.mesh.loading import load_mesh
from engine.outputs import load_field
from engine.pipeline import run
from engine.progress import Reporter
from engine.settings import run_settings


def test_a_reused_field_is_not_changed_by_the_run(segmented_lollipop, lollipop):
    vertices, faces = load_mesh(lollipop[0])  # what the saved field was fitted to
    reuse = replace(load_field(segmented_lollipop), graph=None, graph_key="")
    before = {k: v.clone() for k, v in reuse.model.state_dict().items()}
    result = run(vertices, faces, run_settings("fast", parts=2, threads=2, part_meshes=False), Reporter(),
                 reuse=reuse)
    assert result.field.graph is not None and result.field.graph_key  # the run's own field carries its graph
    assert reuse.graph is None and reuse.graph_key == ""
    assert result.field.model is not reuse.model
    after = reuse.model.state_dict()
    assert all(torch.equal(before[k], after[k]) and after[k].device.type == "cpu" for k in before)
    assert len(np.unique(result.vertex_labels)) == 2

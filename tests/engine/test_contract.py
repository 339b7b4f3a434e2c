"""engine.contract: the protocol lines, exit codes, on-disk names and part colours callers rely on."""

import io
import json

import numpy as np
import pytest

from engine import contract
from engine.outputs import part_colors


def test_encode_decode_round_trip_every_message_type():
    for message_type in contract.MESSAGE_TYPES:
        line = contract.encode(message_type, message="x", fraction=0.5)
        assert "\n" not in line
        assert contract.decode(line) == {"type": message_type, "message": "x", "fraction": 0.5}


@pytest.mark.parametrize("line", ['{"type": "HELLO"}', "[1, 2]", '"DONE"', '{"message": "no type"}'])
def test_decode_refuses_what_is_not_a_message(line):
    with pytest.raises(ValueError):
        contract.decode(line)


def test_encode_refuses_an_unknown_type():
    with pytest.raises(ValueError):
        contract.encode("PRINT", message="x")


def test_event_writer_writes_one_flushed_json_line_per_message():
    stream = io.StringIO()
    writer = contract.EventWriter(stream)
    writer.send("PROGRESS", stage="fit", fraction=0.25, overall=0.1)
    writer.send("DONE", output="/tmp/out", parts=3, types=1)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["PROGRESS", "DONE"]


def test_exit_codes_are_the_documented_ones():
    codes = (contract.EXIT_OK, contract.EXIT_INTERNAL, contract.EXIT_BAD_INPUT, contract.EXIT_CANCELLED)
    assert codes == (0, 1, 2, 130)


def test_every_file_the_engine_writes_is_its_own_name():
    names = {contract.SEGMENTATION, contract.VERTEX_LABELS, contract.FACE_LABELS, contract.COLORED_MESH,
             contract.MODEL_WEIGHTS, contract.MODEL_INFO, contract.SURFACE_GRAPH, contract.PART_FIELD_WEIGHTS,
             contract.PART_MESH_FOLDER, contract.UNION_MESH}
    assert len(names) == 10
    assert names <= contract.OWN_NAMES
    assert set(contract.MODEL_FILES) <= names


def test_part_colours_are_distinct_in_range_and_the_engine_uses_them():
    ids = np.arange(-3, 64)
    colours = np.array([contract.part_color(int(i)) for i in ids])
    assert colours.min() >= 0.0 and colours.max() <= 1.0
    assert len(np.unique(np.round(colours, 4), axis=0)) == len(ids)
    assert np.array_equal(part_colors(ids), colours)

from bench.batch_throughput import SECTION_END, SECTION_START, insert_section, plans


def test_plans_fill_the_cores_from_one_engine_to_one_per_core():
    assert plans(2) == [(1, 2), (2, 1)]
    assert plans(8) == [(1, 8), (2, 4), (4, 2), (8, 1)]


def test_the_batch_section_of_the_benchmarks_is_replaced_not_repeated(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\ntable\n")
    insert_section(path, "first\n")
    insert_section(path, "second\n")
    text = path.read_text()
    assert text.count(SECTION_START) == 1 and text.count(SECTION_END) == 1
    assert "second" in text and "first" not in text and text.startswith("# Benchmarks\n\ntable\n")

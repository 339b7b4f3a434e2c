"""bench.thread_scaling: real engine runs per thread count, read back from segmentation.json."""

from bench.thread_scaling import default_thread_counts, render_thread_table, thread_scaling


def test_default_counts_start_at_one_and_end_at_the_cores():
    counts = default_thread_counts()
    assert counts[0] == 1 and counts == sorted(set(counts))


def test_one_real_run_per_count_with_the_engine_own_stage_times():
    rows = thread_scaling([1, 2], quality="fast", shape="lollipop", part_meshes=False)
    assert [row["threads"] for row in rows] == [1, 2]
    for row in rows:
        assert row["exit_code"] == 0
        assert row["threads_used"] == row["threads"]
        assert row["fit"] > 0 and row["part_fit"] is None
        assert row["wall"] > row["fit"]
    table = render_thread_table(rows, "fast", "lollipop")
    assert table.count("\n| 1 | 1 |") == 1 and "| 2 | 2 |" in table
    assert "1.00x" in table

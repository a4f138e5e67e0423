"""The progress bar of long runs over the log: it counts every item, though it moves in steps."""

from records.progress import TICKS_PER_ADVANCE, event_progress


def test_the_bar_ends_at_the_number_of_items_ticked(capfd):
    items = 2 * TICKS_PER_ADVANCE + 7  # not a whole number of steps
    with event_progress("Replaying", items + 50) as tick:
        for _ in range(items):
            tick()
    assert f"{items}/{items + 50}" in capfd.readouterr().err


def test_a_run_that_stops_early_shows_how_far_it_got(capfd):
    try:
        with event_progress("Replaying", 100) as tick:
            for _ in range(42):
                tick()
            raise RuntimeError("a broken link")
    except RuntimeError:
        pass
    assert "42/100" in capfd.readouterr().err

"""A viewing summarised from its events, in cases a generator finds only now and then."""

from __future__ import annotations

from moviie.analytics.viewings import PlayerEvent, summarise


def test_the_same_stretch_played_before_and_after_the_rendition_was_known() -> None:
    events = [
        PlayerEvent(0, "view_start", 0.0),
        PlayerEvent(1, "heartbeat", 10.0),  # no rendition reported yet
        PlayerEvent(2, "seek", 0.0, from_s=10.0, rendition="240p"),
        PlayerEvent(3, "heartbeat", 10.0, rendition="240p"),
    ]
    viewing = summarise(events, duration_s=20.0)
    assert viewing.watch_time_s == 20.0  # seen twice, counted twice
    assert viewing.completion == 0.5  # but half of the video once
    assert viewing.renditions == {"unknown": 10.0, "240p": 10.0}
    assert sum(viewing.retention) == 50

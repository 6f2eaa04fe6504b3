"""The chart engine child process (load/chart_engine.py): charts drawn there, its refusals raised here, and a
dead child replaced by drawing in this process."""

import pytest

from load.chart_engine import WARM_UP, ChartEngine, ChartEngineError

BARS = {"data": {"values": [{"a": "ก", "b": 3}, {"a": "ข", "b": 5}]}, "mark": "bar",
        "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}


@pytest.fixture
def engine():
    ChartEngine.stop()
    yield ChartEngine
    ChartEngine.stop()


def test_a_chart_is_drawn_by_the_child_process(engine):
    engine.start()
    child = engine._process
    svg = engine.svg(BARS)
    assert svg.startswith("<svg") and svg.count("<path") >= 2 and "ก" in svg
    assert engine._process is child and child.poll() is None  # the same child drew it, and is still there


def test_a_refused_specification_is_raised_and_the_child_serves_on(engine):
    with pytest.raises(ChartEngineError):
        engine.svg({"mark": "no-such-mark", "data": {"values": [{"x": 1}]}})
    assert engine.svg(WARM_UP).startswith("<svg")


def test_a_dead_child_is_replaced_without_losing_the_chart(engine):
    engine.start()
    engine._process.kill()
    engine._process.wait()
    assert engine.svg(BARS).startswith("<svg")


def test_the_child_ends_when_stopped(engine):
    engine.start()
    child = engine._process
    engine.stop()
    assert child.poll() is not None and engine._process is None

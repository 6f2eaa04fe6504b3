import pytest

from transform.status import classify_status


@pytest.mark.parametrize("phrase, plan, target", [
    ("เป็นไปตามแผน", "on_plan", None),
    ("เป็นไปตามแผนแต่ควรติดตาม", "on_plan_monitor", None),
    ("เป็นไปตามแผนแต่ควรถัด", "on_plan_monitor", None),  # garbled tail, seed 001
    ("เป็นไปตามแผนแต่ควรถติ", "on_plan_monitor", None),  # garbled tail, seed 001
    ("ไม่เป็นไปตามแผน", "off_plan", None),
    ("ไม่ เป็นไปตามแผน", "off_plan", None),
    ("เป็นไปตามเป้าหมาย", None, "on_target"),
    ("ไม่เป็นไปตามเป้าหมาย", None, "off_target"),
    ("เป็นไปตามแผนแต่ควรติดตามเป็นปกติตามเป้าหมาย", "on_plan_monitor", "on_target"),  # two glued, seed 001
    ("ไม่เป็นไปตามแผนเป็นไปตามเป้าหมาย", "off_plan", "on_target"),
    ("เป็นไปตามแ", "on_plan", None),  # cut phrase of positive polarity
    ("ไม่เป็นไปตามแ", None, None),  # cut negated phrase: not guessed
    ("รอดำเนินการ", None, None),
    ("", None, None),
])
def test_status_phrases(phrase, plan, target):
    reading = classify_status(phrase)
    assert (reading.plan, reading.target) == (plan, target)


@pytest.mark.parametrize("negated", ["ไม่เป็นไปตามแผน", "ไม่เป็นไปตามแผนแต่ควรติดตาม", "ไม่เป็นไปตามเป้าหมาย",
                                     "ไม่เป็นไปตามแผ"])
def test_negation_never_maps_to_positive(negated):
    reading = classify_status(negated)
    assert reading.plan not in ("on_plan", "on_plan_monitor")
    assert reading.target != "on_target"

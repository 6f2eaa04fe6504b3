"""The web progress page's step plan: its findings reach the dump."""

from tests.conftest import seed_path
from transform.web_progress import parse_web_progress

SEED_002 = "002_5c49e0dc0950e00c.txt"


def test_step_weights_that_do_not_add_up_are_a_finding():
    text = seed_path(SEED_002).read_text(encoding="utf-8")
    dump = parse_web_progress(text, SEED_002)
    assert [f.check_name for f in dump.findings] == [] and len(dump.steps) == 5
    changed = parse_web_progress(text.replace(":20%", ":25%", 1), SEED_002)
    assert [(f.check_name, f.detail) for f in changed.findings] == [
        ("plan_weights_not_100", "step weights add up to 105.00 %")]


def test_a_step_date_that_cannot_be_read_is_null_with_its_finding():
    text = seed_path(SEED_002).read_text(encoding="utf-8")
    dump = parse_web_progress(text.replace("เริ่มต้น :2022-10-01", "เริ่มต้น :2022-02-31", 1), SEED_002)
    assert dump.steps[0].start_date is None
    assert [f.check_name for f in dump.findings] == ["implausible_value"]
    assert "plan step 1: '2022-02-31 00:00:00' cannot be read" in dump.findings[0].detail

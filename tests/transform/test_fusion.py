"""The OCR passes of a page fused by tesseract's confidence in each character (transform/fusion.py)."""

from __future__ import annotations

from transform.fusion import UNREAD, fused_rendering


def _conf(line: str, top: int, sure: dict[int, int] | None = None, default: int = 95) -> str:
    """A confidence line for `line`: every character but spaces `default` sure, those at `sure` positions of
    the line (counted with spaces) as given."""
    sure = sure or {}
    digits = "".join(f"{sure.get(i, default):02d}" for i, ch in enumerate(line) if not ch.isspace())
    return f"{top} {top + 40} {digits}"


def test_where_the_passes_differ_the_surer_reading_is_taken():
    a = "รหัสโครงการ : 50010000-2106\nงบประมาณที่ได้รับ : 328,000 บาท"
    b = "รหัสโครงการ : 50010000-2106\nงบประมาณที่ได้รับ : 328,600 um"
    six = b.split("\n")[1].index("6")
    conf_a = "\n".join([_conf(a.split("\n")[0], 100), _conf(a.split("\n")[1], 200)])
    conf_b = "\n".join([_conf(b.split("\n")[0], 102), _conf(b.split("\n")[1], 198, {six: 41, six + 5: 30,
                                                                                   six + 6: 30})])
    assert fused_rendering([a, b], [conf_a, conf_b]) == a
    assert fused_rendering([b, a], [conf_b, conf_a]) == a  # whichever pass is first


def test_a_number_neither_pass_read_surely_is_unread_whole_and_a_word_only_where_it_differs():
    a = "งบประมาณที่ได้รับ : 328,000 บาท\nสิ้นสุดโครงการ : 2020-09-29"
    b = "งบประมาณที่ได้รับ : 328,600 บาท\nสิ่นสุดโครงการ : 2020-09-29"
    conf = [_conf(line, 100 * i) for i, line in enumerate(a.split("\n"))]
    conf_b = [_conf(line, 100 * i) for i, line in enumerate(b.split("\n"))]
    fused = fused_rendering([a, b], ["\n".join(conf), "\n".join(conf_b)]).split("\n")
    assert fused[0] == f"งบประมาณที่ได้รับ : {UNREAD} บาท"  # never '328,�00', a number no pass read
    assert fused[1] == f"สิ{UNREAD}นสุดโครงการ : 2020-09-29"  # still a label the repair of labels restores


def test_lines_are_paired_by_the_pixel_rows_they_cover_not_by_their_order():
    a = "ชื่อโครงการ : ก\n|\nรหัสโครงการ : 50010000-2106"  # a stray mark read as a line of its own
    b = "ชื่อโครงการ : ก\nรหัสโครงการ : 50010000-2166"
    wrong = b.split("\n")[1].rindex("66")
    conf_a = "\n".join([_conf("ชื่อโครงการ : ก", 0), _conf("|", 60, default=20), _conf(a.split("\n")[2], 120)])
    conf_b = "\n".join([_conf("ชื่อโครงการ : ก", 0), _conf(b.split("\n")[1], 118, {wrong: 50, wrong + 1: 50})])
    assert fused_rendering([a, b], [conf_a, conf_b]).split("\n")[2] == "รหัสโครงการ : 50010000-2106"


def test_nothing_is_fused_without_confidences_that_match_the_text():
    assert fused_rendering(["ก"], ["0 10 95"]) is None
    assert fused_rendering(["ก", "ข"], []) is None
    assert fused_rendering(["ก\fข", "ก"], ["0 10 95\f0 10 95", "0 10 95"]) is None
    # a line whose confidences are not known is fused only where the passes agree
    assert fused_rendering(["ก 1", "ก 7"], ["0 10 ", "0 10 9595"]) == f"ก {UNREAD}"


def test_a_colon_more_is_the_first_passs_and_a_lost_mark_the_other_passs():
    a = "รายงานครังที1 :: 21/11/2562 : อนุมัติ"
    b = "รายงานครั้งที่1 :: 21/11/2562 :  : อนุมัติ"
    fused = fused_rendering([a, b], [_conf(a, 0), _conf(b, 0)])
    assert fused == "รายงานครั้งที่1 :: 21/11/2562 : อนุมัติ"  # the date untouched by a speck's colon


def test_a_point_more_in_a_number_is_never_taken_as_punctuation():
    a = "= 30,.000 บาท"
    b = "= 30,000 บาท"
    assert fused_rendering([a, b], [_conf(a, 0), _conf(b, 0)]) == f"= {UNREAD} บาท"
    dot = a.index(".")
    assert fused_rendering([a, b], [_conf(a, 0, {dot: 40}), _conf(b, 0)]) == b

"""The pages of BMA's tracking system, whole (dump 002) and as crawls keep them: every agency, every shape of the
contact line, the headline progress, the quarter evaluation; and the step plan's findings."""

from datetime import date
from decimal import Decimal

import pytest

from common.records import DumpParseError
from tests.conftest import seed_path
from transform.parse import detect_layout, parse
from transform.web_progress import parse_web_progress

SEED_002 = "002_5c49e0dc0950e00c.txt"
BODY = ("หลักการและเหตุผล\n\nพระราชบัญญัติการศึกษาแห่งชาติ พ.ศ. 2542 ... ฝ่ายการศึกษา สำนักงานเขตบางแค ได้ดำเนินการ\n\n"
        "50010600/50010600\n\nวัตถุประสงค์ของโครงการ\n\n2.1 เพื่อส่งเสริม")


def page(title: str, agency: str | None, progress: str, contact: str | None, evaluation: str | None,
         blank_lines: bool = True) -> str:
    lines = ["ความคืบหน้าโครงการ/กิจกรรม", "Back Home", "FusionCharts will render here", title]
    lines += [agency] if agency is not None else []
    lines += [progress, f"ความคืบหน้าโครงการ ร้อยละ {progress}"]
    lines += [contact] if contact is not None else []
    lines += ["ดูโครงการแผนปีฯ : พิมพ์ข้อมูล"] + ([evaluation] if evaluation else []) + [BODY]
    return ("\n\n" if blank_lines else "\n").join(lines)


def test_the_seed_page_keeps_its_headline_unit_and_evaluation(titles):
    dump = parse_web_progress(seed_path(SEED_002).read_text(encoding="utf-8"), SEED_002, titles)
    assert dump.header.project_code == "50230000-3598" and dump.header.fiscal_year == 2566
    assert dump.header.agency_th == "สำนักงานเขตบางขุนเทียน"
    assert dump.header.unit_th == "สำนักงานเขตบางขุนเทียน / ฝ่ายการศึกษา" and dump.people == ()
    h = dump.headline
    assert (h.progress_pct, h.as_of, h.evaluation_quarter, h.evaluation_score) == (
        Decimal("20.00"), date(2022, 12, 30), 2, Decimal("100.00"))


@pytest.mark.parametrize("blank_lines", [True, False])
def test_a_department_page_with_a_person_and_no_dated_line(titles, blank_lines):
    text = page("ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน (2563) : 09000000-4412", "สำนักการศึกษา : (2566)", "95",
                "นางสาวสมศรี ทวีคุณ หน.ฝ่ายการศึกษา โทร. 5378", "*** สยป. ประเมินโครงการ : ไตรมาสที่ 1 : 100.0000",
                blank_lines)
    dump = parse(text, "p.txt", titles)
    assert dump.layout == "web_progress" and dump.header.project_code == "09000000-4412"
    assert dump.header.fiscal_year == 2566 and dump.header.agency_th == "สำนักการศึกษา"
    assert dump.header.name_th == "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน (2563)"
    assert dump.district_mentions == ()  # the body's สำนักงานเขตบางแค is not the agency
    assert dump.reports == ()  # no dated line: the headline is kept on its own
    assert (dump.headline.progress_pct, dump.headline.as_of) == (Decimal("95.00"), None)
    assert (dump.headline.evaluation_quarter, dump.headline.evaluation_score) == (1, Decimal("100.00"))
    [person] = dump.people
    assert (person.role, person.title_th, person.name_th, person.phone, person.position_th) == (
        "officer", "นางสาว", "สมศรี ทวีคุณ", "5378", "หน.ฝ่ายการศึกษา")


@pytest.mark.parametrize("evaluation, quarter, score", [
    ("*** สยป. ประเมินโครงการ : ไตรมาสที่ 2 100", 2, Decimal("100.00")),
    ("*** สยป. ประเมินโครงการ : ไตรมาสที่ 1 100.0000", 1, Decimal("100.00")),
    ("*** สยป. ประเมินโครงการ : ไตรมาสที่ 1 : 100.0000", 1, Decimal("100.00")),
    ("*** สยป. ประเมินโครงการ : ไตรมาสที่ 4 : 0.0000", 4, Decimal("0.00")),
    ("*** สยป. ประเมินโครงการ : ไตรมาสที่ 3", 3, None),
    (None, None, None),
])
def test_every_shape_of_the_quarter_evaluation(titles, evaluation, quarter, score):
    text = page("โครงการพัฒนาครู : 50210000-1234", "สำนักงานเขตภาษีเจริญ : (2566)", "100.00", "ฝ่ายการศึกษา", evaluation)
    h = parse(text, "p.txt", titles).headline
    assert (h.progress_pct, h.evaluation_quarter, h.evaluation_score) == (Decimal("100.00"), quarter, score)


@pytest.mark.parametrize("progress", ["95", "100.00", "5.00", "0"])
def test_every_shape_of_the_headline(titles, progress):
    text = page("งานประจำ : 15000000-0021", "สำนักเทศกิจ", progress, None, None)
    dump = parse(text, "p.txt", titles)
    assert dump.headline.progress_pct == Decimal(progress).quantize(Decimal("0.01"))
    assert dump.header.fiscal_year is None and dump.header.agency_th == "สำนักเทศกิจ"  # printed without its year


def test_the_lone_number_and_the_headline_disagreeing_is_null_with_a_finding(titles):
    text = page("งานประจำ : 15000000-0021", "สำนักเทศกิจ : (2566)", "95", None, None).replace("\n\n95\n\n", "\n\n90\n\n")
    dump = parse(text, "p.txt", titles)
    assert dump.headline.progress_pct is None
    assert [f.check_name for f in dump.findings] == ["unsettled_disagreement"]


def test_the_split_sara_am_of_the_agency_line(titles):
    text = page("งานประจำ : 18000000-0077", "ส\u0e4d\u0e32นักการวางผังและพัฒนาเมือง : (2565)", "5.00", None, None)
    assert parse(text, "p.txt", titles).header.agency_th == "สำนักการวางผังและพัฒนาเมือง"


@pytest.mark.parametrize("contact, unit, people", [
    ("ฝ่ายการศึกษา", "ฝ่ายการศึกษา", []),
    ("ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม", "ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม", []),
    ("กองสุขาภิบาลอาหาร", "กองสุขาภิบาลอาหาร", []),
    ("กลุ่มงานส่งเสริมสุขภาพ (คุณสมศรี)", "กลุ่มงานส่งเสริมสุขภาพ (คุณสมศรี)", []),
    ("นายสมชาย บุญวงศ์ โทร 6628", None, [("officer", "นาย", "สมชาย บุญวงศ์", "6628")]),
    ("น.ส.สมศรี ทวีคุณ (3027)", None, [("officer", "นางสาว", "สมศรี ทวีคุณ", "3027")]),
    ("นางสาวอรพรรณ เพชรเมณี (โทร.02 6289067)", None, [("officer", "นางสาว", "อรพรรณ เพชรเมณี", "026289067")]),
    ("สมชาย บุญวงศ์ 6628", None, [("officer", None, "สมชาย บุญวงศ์", "6628")]),
    ("สมชาย บุญวงศ์6628", None, [("officer", None, "สมชาย บุญวงศ์", "6628")]),
    ("นายสมชาย บุญวงศ์ / โทร 6628", None, [("officer", "นาย", "สมชาย บุญวงศ์", "6628")]),
    ("นายสมชาย บุญวงศ์ โทร 6822-3", None, [("officer", "นาย", "สมชาย บุญวงศ์", "6822")]),
    ("นางสมศรี ทวีคุณ โทร 3347-49", None, [("officer", "นาง", "สมศรี ทวีคุณ", "3347")]),
    ("นางสมศรี ทวีคุณ โทร 02 2245 1234 ต่อ 15", None, [("officer", "นาง", "สมศรี ทวีคุณ", "0222451234")]),
    ("นางสมศรี ทวีคุณ โทร 1111 หรือโทร. 2556", None, [("officer", "นาง", "สมศรี ทวีคุณ", "1111")]),
    ("สมศรี ทวีคุณ 2548", None, [("officer", None, "สมศรี ทวีคุณ", "2548")]),  # an extension, not a year
    ("คุณสมศรี โทร 6628", None, [("officer", "คุณ", "สมศรี", "6628")]),
    ("นางสาวสมศรีี ทวีคุณ โทร 6628", None, [("officer", "นางสาว", "สมศรี ทวีคุณ", "6628")]),
    ("นายสมชาย บุญวงศ์ และนางสมศรี ทวีคุณ โทร 6628", None,
     [("officer", "นาย", "สมชาย บุญวงศ์", None), ("co_officer", "นาง", "สมศรี ทวีคุณ", "6628")]),
])
def test_every_shape_of_the_contact_line(titles, contact, unit, people):
    text = page("งานประจำ : 50210000-0021", "สำนักงานเขตภาษีเจริญ : (2566)", "5.00", contact, None)
    dump = parse(text, "p.txt", titles)
    assert dump.header.unit_th == " / ".join(x for x in ("สำนักงานเขตภาษีเจริญ", unit) if x)
    assert [(p.role, p.title_th, p.name_th, p.phone) for p in dump.people] == people
    assert all(p.raw == p.raw.strip() and p.raw in contact for p in dump.people)  # the printed text, kept


def test_a_page_cut_before_its_title_lines_is_quarantined_saying_what_it_lacks(titles):
    text = page("งานประจำ : 50210000-0021", "สำนักงานเขตภาษีเจริญ : (2566)", "20", "ฝ่ายการศึกษา", None)
    cut = text[text.index("ความคืบหน้าโครงการ ร้อยละ"):]
    assert detect_layout(cut) == "web_progress"
    with pytest.raises(DumpParseError, match="cut before its title lines: it has no project name and code"):
        parse(cut, "cut.txt", titles)


def test_step_weights_that_do_not_add_up_are_a_finding(titles):
    text = seed_path(SEED_002).read_text(encoding="utf-8")
    dump = parse_web_progress(text, SEED_002, titles)
    assert [f.check_name for f in dump.findings] == [] and len(dump.steps) == 5
    changed = parse_web_progress(text.replace(":20%", ":25%", 1), SEED_002, titles)
    assert [(f.check_name, f.detail) for f in changed.findings] == [
        ("plan_weights_not_100", "step weights add up to 105.00 %")]


def test_a_step_date_that_cannot_be_read_is_null_with_its_finding(titles):
    text = seed_path(SEED_002).read_text(encoding="utf-8")
    dump = parse_web_progress(text.replace("เริ่มต้น :2022-10-01", "เริ่มต้น :2022-02-31", 1), SEED_002, titles)
    assert dump.steps[0].start_date is None
    assert [f.check_name for f in dump.findings] == ["implausible_value"]
    assert "plan step 1: '2022-02-31 00:00:00' cannot be read" in dump.findings[0].detail

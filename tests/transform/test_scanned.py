"""What OCR does to a printed form, undone where it shows (transform/scanned.py, transform/form_entries.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from common.records import ParsedDump, ProjectHeader
from transform.consensus import NOTE_FIELD, build_entries
from transform.form_entries import key_entries, read_entries
from transform.scanned import merge_passes, misread_reports_to_null, repair, unwrap_form
from transform.values import unit_name


def test_a_thousands_comma_misread_and_baht_read_um_are_repaired():
    assert repair("งบประมาณที่เบิกใช้ (ครั้งที่ 4) =   60, 000 Um :") == "งบประมาณที่เบิกใช้ (ครั้งที่ 4) =   60,000 บาท :"
    assert repair("(ครั้งที่ 2) = 214 ,000 บาท") == "(ครั้งที่ 2) = 214,000 บาท"
    assert repair("(ครั้งที่ 3) = 30,.000 บาท") == "(ครั้งที่ 3) = 30,000 บาท"
    assert repair("งบประมาณที่ใช้ไป : 1,476,000 um") == "งบประมาณที่ใช้ไป : 1,476,000 บาท"
    assert repair("สมุดบัญชี um") == "สมุดบัญชี um"  # 'um' after no amount is left alone
    # a decimal amount is not a thousands group
    assert repair("ความก้าวหน้าของงานฯ = 55.00 %") == "ความก้าวหน้าของงานฯ = 55.00 %"


def test_the_colons_before_a_reports_date_are_repaired():
    assert repair("รายงานครั้งที่6 =: 21/03/2564 : เบิกจ่ายแล้ว") == "รายงานครั้งที่6 :: 21/03/2564 : เบิกจ่ายแล้ว"
    assert repair("รายงานครั้งที่1 : 22/10/2564 : อนุมัติ") == "รายงานครั้งที่1 :: 22/10/2564 : อนุมัติ"


def test_a_form_phrase_is_restored_only_where_a_syllable_ends():
    assert repair("รายงานครังทิ6 :: 22/3/2560 : เครือข่ายที 6") == "รายงานครั้งที่6 :: 22/3/2560 : เครือข่ายที่ 6"
    # 'ทาง' is not 'ที่' with its marks lost: the ท goes on with า
    assert repair("โดยใช้ระบบเครือข่ายทางการศึกษา") == "โดยใช้ระบบเครือข่ายทางการศึกษา"
    # nor is 'ทั้ง': a marked letter followed by a consonant is another syllable than the phrase's
    assert repair("ให้เครือข่ายโรงเรียนทั้ง 3 เครือข่าย") == "ให้เครือข่ายโรงเรียนทั้ง 3 เครือข่าย"


def test_specks_after_a_units_line_are_not_its_name():
    assert unit_name("สํานักงานเขตวัฒนา / ฝ่ายการศึกษา / ฝ่ายการศึกษา 1") == "สำนักงานเขตวัฒนา / ฝ่ายการศึกษา / ฝ่ายการศึกษา"
    assert unit_name("ฝ่ายการศึกษา สำนักงานเขตดินแดง 7 ณ ฮ") == "ฝ่ายการศึกษา สำนักงานเขตดินแดง"
    assert unit_name("กลุ่มงาน 2 สำนักการศึกษา") == "กลุ่มงาน 2 สำนักการศึกษา"  # a number inside is the name's


def test_a_latin_word_hyphenated_at_a_lines_end_is_one_word_again():
    wide = "ได้ดำเนินการเบิกจ่าย เนื่องจากการแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 (COVID-"
    assert unwrap_form(f"{wide}\n19) จึงไม่ได้ดำเนินการ").endswith("(COVID-19) จึงไม่ได้ดำเนินการ")


def _keyed(section: str) -> dict[int, object]:
    return key_entries(read_entries(section))


def test_an_inner_index_whose_bracket_was_read_as_a_digit_is_its_reports():
    keyed = _keyed("รายงานครั้งที่1 :: 22/10/2562 : อนุมัติ\n"
                   ":: ความก้าวหน้าของงานฯ = 15.00 % : งบประมาณที่เบิกใช้ (ครั้งที่ 11 = 0 บาท : เป็นไปตามแผน\n"
                   "รายงานครั้งที่2 :: 22/11/2562 : จัดสรร\n"
                   ":: ความก้าวหน้าของงานฯ = 25.00 % : งบประมาณที่เบิกใช้ (ครั้งที่ 22 = 214,000 บาท : เป็นไปตามแผน\n")
    assert sorted(keyed) == [1, 2]
    assert keyed[1].amount == Decimal("0") and keyed[2].amount == Decimal("214000")


def test_labels_with_a_letter_more_are_still_read():
    keyed = _keyed("รายงานครั้งที่7 :: 17/04/2562 : ประชุม\n"
                   ":: ความก้าวหน้าข้องงานๆ = 85.00 % : งบประมาณทที่เบิกใช้ (ครั้งที่ 7) = 0 บาท : เป็นไปตามแผน\n")
    assert keyed[7].progress == Decimal("85.00") and keyed[7].amount == Decimal("0")


def _dump(reports: list[tuple[int, date | None, str | None]]) -> ParsedDump:
    decided = {no: {"date": d, "progress_pct": None, "cumulative_thb": Decimal(t) if t else None,
                    "plan_status": None, "target_status": None, NOTE_FIELD: None} for no, d, t in reports}
    header = ProjectHeader(None, 2564, "ก", None, None, None, None, None)
    return ParsedDump("f.pdf", "progress_form", 3, header, (), (), tuple(build_entries(decided, [])), (), ())


def test_a_misread_year_or_thousands_point_between_neighbours_is_null_with_its_finding():
    dump = misread_reports_to_null(_dump([(5, date(2021, 2, 19), "30000"), (6, date(2023, 3, 21), "90.00"),
                                          (7, date(2021, 4, 21), "90000")]))
    six = next(r for r in dump.reports if r.report_no == 6)
    assert six.date is None and six.cumulative_thb is None
    assert six.period_month == date(2021, 3, 1)  # imputed between its neighbours, as for any missing date
    assert [f.check_name for f in dump.findings] == ["implausible_value", "implausible_value"]


def test_a_running_total_that_truly_goes_down_is_kept_as_read():
    dump = _dump([(1, date(2021, 2, 19), "90000"), (2, date(2021, 3, 21), "60000"),
                  (3, date(2021, 4, 21), "90000")])
    assert misread_reports_to_null(dump) is dump


def test_a_pass_that_did_not_find_a_value_does_not_outvote_one_that_did():
    found = ParsedDump("f.pdf", "proposal", 1, ProjectHeader(None, 2564, "ก", Decimal("90000"), None, None, None,
                                                              None), (), (), (), (37,), ())
    lost = ParsedDump("f.pdf", "proposal", 1, ProjectHeader(None, 2564, "ก", None, None, None, None, None), (), (),
                      (), (), ())
    merged = merge_passes([found, lost, lost])
    assert merged.header.budget_thb == Decimal("90000") and merged.networks == (37,)

"""Schools: a school is a registry school of its district, or an unregistered candidate that looks like a
name and was printed as a listing item; a sentence never is."""

import shutil

import pytest

from common.settings import MatchSettings, Settings
from flows.stages import run_once
from load.analyst import run_query
from tests.conftest import REFERENCE, SEEDS, seed_path
from transform.schools import NOT_A_NAME_START, NOT_IN_SCHOOL_NAMES, SchoolKey, looks_like_a_name, resolve_schools
from transform.text_mentions import beyond_stated_count, school_mentions, within_networks

SEED_001 = "001_d000cb5bc4147d98.txt"


@pytest.mark.parametrize("text, expected", [
    ("เครือข่ายที่ 53 โรงเรียนวัดนิมมานรดี", [("วัดนิมมานรดี", 53, "", True)]),
    ("เครือข่ายที่ 54\nโรงเรียนวัดอ่างแก้ว (จีบ ปานขำ)", [("วัดอ่างแก้ว (จีบ ปานขำ)", 54, "", False)]),  # wrapped
    ("1. เครือข่ายที่ 1 โรงเรียนวัดมหรรณพาราม ในพระราชูปถัมภ์ฯ 2. เครือข่ายที่ 2 โรงเรียนพระราม ๙ กาญจนาภิเษก",
     [("วัดมหรรณพาราม", 1, "ในพระราชูปถัมภ์ฯ", True), ("พระราม", 2, "9 กาญจนาภิเษก", True)]),
    ("ได้แก่ เครือข่ายที่ 73\n\nโรงเรียนสังกัดกรุงเทพมหานครต้องมีกระบวนการ มีคุณภาพสูง",
     [("สังกัดกรุงเทพมหานครต้องมีกระบวนการ", 73, "มีคุณภาพสูง", False)]),  # a candidate; resolution drops it
    ("เครือข่ายที่ 99 โรงเรียนวัดนิมมานรดี", []),  # no such network
    # a scan's label: the marks of ที่ lost, a speck read between its words where the line wrapped
    ("ดังนี้ 1. เครือข่าย 1 ที 6 โรงเรียนปลูกจิต", [("ปลูกจิต", 6, "", True)]),
    ("1. เครือข่ายทิ 6 โรงเรียนปลูกจิต", [("ปลูกจิต", 6, "", True)]),
    ("เครือข่ายโรงเรียน 1 ทั้ง 6 โรงเรียน", []),  # no network label
])
def test_school_mentions(text, expected):
    assert [(m.name_th, m.network_no, m.tail, m.same_line) for m in school_mentions(text)] == expected


def _resolve(reference, *keys: SchoolKey):
    return resolve_schools({k: 1 for k in keys}, reference, MatchSettings())


def test_a_registry_name_with_a_space_is_found_whole(reference):
    result = _resolve(reference, SchoolKey("โรงเรียนวัดมหรรณพาราม", "วัดมหรรณพาราม", "5001", 1, "ในพระราชูปถัมภ์ฯ"),
                      SchoolKey("โรงเรียนพระราม", "พระราม", "5009", 2, "9 กาญจนาภิเษก"),
                      SchoolKey("โรงเรียนเคหะทุ่งสองห้องวิทยา", "เคหะทุ่งสองห้องวิทยา", "5041", 3, "1"))
    assert sorted((s.name_th, s.in_registry) for s in result.schools) == [
        ("พระราม 9 กาญจนาภิเษก", True), ("วัดมหรรณพาราม ในพระราชูปถัมภ์ฯ", True), ("เคหะทุ่งสองห้องวิทยา 1", True)]
    assert {r.spelled for r in result.rules} == {"โรงเรียนวัดมหรรณพาราม ในพระราชูปถัมภ์ฯ",
                                                 "โรงเรียนพระราม 9 กาญจนาภิเษก", "โรงเรียนเคหะทุ่งสองห้องวิทยา 1"}
    assert result.reviews == ()


def test_a_name_run_on_into_a_sentence_is_cut_where_the_registry_name_ends(reference):
    run_on = SchoolKey("โรงเรียนราชบพิธโดยใช้ระบบ", "ราชบพิธโดยใช้ระบบ", "5001", 1)
    # a parenthesis misspelt is the registry's whole name, not its short one and a remainder
    parenthesis = SchoolKey("โรงเรียนวัดไก่เตี้ย (สวัสดิประชานุกูล)", "วัดไก่เตี้ย (สวัสดิประชานุกูล)", "5020", 36)
    result = _resolve(reference, run_on, parenthesis)
    assert sorted(s.name_th for s in result.schools) == ["ราชบพิธ", "วัดไก่เตี้ย (สวัสดิ์ประชานุกูล)"]
    assert {r.spelled for r in result.rules} == {"โรงเรียนราชบพิธ", "โรงเรียนวัดไก่เตี้ย (สวัสดิประชานุกูล)"}


def test_an_unregistered_name_read_cut_short_is_its_school(reference):
    whole = SchoolKey("โรงเรียนคลองศาลาแดงศึกษา", "คลองศาลาแดงศึกษา", "5013", 17)
    cut = SchoolKey("โรงเรียนคลองศาลาแด", "คลองศาลาแด", "5013", 17)
    result = _resolve(reference, whole, cut)  # one document each: the whole spelling names it all the same
    assert [s.name_th for s in result.schools] == ["คลองศาลาแดงศึกษา"]
    assert len({r.school_id for r in result.rules}) == 1
    # of another network, the shorter name is another school
    other = _resolve(reference, whole, cut._replace(network_no=18))
    assert sorted(s.name_th for s in other.schools) == ["คลองศาลาแด", "คลองศาลาแดงศึกษา"]


def test_a_mention_whose_network_the_passes_do_not_agree_on_keeps_its_school_only():
    read = school_mentions("เครือข่ายที่ 75 โรงเรียนวัดประเสริฐสุทธาวาส\nเครือข่ายที่ 15 โรงเรียนวัดประเสริฐสุทธาวาส")
    assert [(m.name_th, m.network_no) for m in within_networks(read, (75,))] == [
        ("วัดประเสริฐสุทธาวาส", 75), ("วัดประเสริฐสุทธาวาส", None)]


def test_a_network_named_far_less_often_than_the_count_allows_is_a_misread():
    text = ("เครือข่ายโรงเรียน 1 เครือข่าย ได้แก่ เครือข่ายที่ 40\nจัดสรรงบประมาณให้เครือข่ายที่ 60 จำนวน 90,000 บาท\n"
            + "เครือข่ายโรงเรียนที่ 40 เบิกจ่ายแล้ว\n" * 3)
    kept, why = beyond_stated_count(text, [40, 60])
    assert kept == (40,) and why.startswith("the document says it has 1 network and names 2: 60 (named 1 times)")
    # named about as often: which one is misread is not known, both stay
    assert beyond_stated_count("เครือข่ายโรงเรียน 1 เครือข่าย เครือข่ายที่ 40 เครือข่ายที่ 60", [40, 60]) == (
        (40, 60), None)
    assert beyond_stated_count("ทั้ง 3 เครือข่าย เครือข่ายที่ 53 เครือข่ายที่ 54", [53, 54]) == ((53, 54), None)


def test_a_sentence_after_a_listing_cut_short_is_no_school(reference):
    after_a_break = SchoolKey("โรงเรียนในสังกัดกรุงเทพมหานครต้องมีกระบวนการ", "ในสังกัดกรุงเทพมหานครต้องมีกระบวนการ",
                              "5021", 55, "มีคุณภาพสูง", same_line=False)
    on_the_line = SchoolKey("โรงเรียนสังกัดกรุงเทพมหานครต้องมีการพัฒนา", "สังกัดกรุงเทพมหานครต้องมีการพัฒนา",
                            "5021", 55, "", same_line=True)
    result = _resolve(reference, after_a_break, on_the_line)
    assert result.schools == () and result.rules == () and result.reviews == ()


def test_a_new_school_printed_as_a_listing_item_is_kept_for_review(reference):
    same_line = SchoolKey("โรงเรียนสุเหร่าท่าข้าม", "สุเหร่าท่าข้าม", "5004", 5, "", True)
    alone_on_the_next = SchoolKey("โรงเรียนวัดชลประทานศึกษา", "วัดชลประทานศึกษา", "5017", 31, "", False)
    followed_by_text = SchoolKey("โรงเรียนบ้านใหม่", "บ้านใหม่", "5017", 31, "จัดงานประจำปี", False)
    result = _resolve(reference, same_line, alone_on_the_next, followed_by_text)
    assert sorted(s.name_th for s in result.schools) == ["วัดชลประทานศึกษา", "สุเหร่าท่าข้าม"]
    assert all(not s.in_registry for s in result.schools)
    assert [r.decision.value for r in result.reviews] == ["not_in_registry", "not_in_registry"]


def test_no_registry_name_holds_a_word_of_running_text(reference):
    for school in reference.schools:
        assert looks_like_a_name(school.name_th), school.name_th
        assert not any(w in school.name_th for w in NOT_IN_SCHOOL_NAMES), school.name_th
        assert not school.name_th.startswith(NOT_A_NAME_START), school.name_th


def test_a_real_listing_cut_by_a_page_break_before_a_paragraph(tmp_path):
    """Dump 001 with every rendering's listing cut after '3. เครือข่ายที่ 55' and followed by a paragraph that
    starts with โรงเรียน: the two schools printed stay, the paragraph is no school, and nothing is flagged."""
    text = seed_path(SEED_001).read_text(encoding="utf-8")
    cut = ("3. เครือข่ายที่ 55\n\n\n\n**\\*\\* แบบแสดงรายงานความก้าวหน้าและข้อมูลเกี่ยวกับโครงการ \\*\\***\n\n"
           "โรงเรียนในสังกัดกรุงเทพมหานครต้องมีกระบวนการพัฒนาด้วยคุณภาพที่เข้มแข็ง มีคุณภาพสูง\n\n")
    for printed in ("3. เครือข่ายที่ 55\n\nโรงเรียนวัดอ่างแก้ว (จีบ ปานข้า)", "3. เครือข่ายที่ 55 โรงเรียนวัดอ่างแก้ว (จิบ ปานข้า)"):
        assert printed in text
        text = text.replace(printed, cut)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / SEED_001).write_text(text, encoding="utf-8")
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE)
    run_once(settings)
    schools = run_query(settings.warehouse_dir,
                        "SELECT name_th, network_no, in_registry FROM dim_school ORDER BY network_no")[1]
    assert schools == [("วัดนิมมานรดี", 53, True), ("วัดจันทร์ประดิษฐาราม", 54, True)]
    flagged = run_query(settings.warehouse_dir, "SELECT count(*) FROM dq_issue WHERE check_name LIKE 'school%'")[1]
    assert flagged == [(0,)]


def test_seed_001_still_names_its_three_schools(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(seed_path(SEED_001), raw / SEED_001)
    settings = Settings.from_env(raw_dir=raw, warehouse_dir=tmp_path / "wh", reference_dir=REFERENCE)
    run_once(settings)
    assert run_query(settings.warehouse_dir, "SELECT network_no, name_th FROM dim_school ORDER BY 1")[1] == [
        (53, "วัดนิมมานรดี"), (54, "วัดจันทร์ประดิษฐาราม"), (55, "วัดอ่างแก้ว (จีบ ปานขำ)")]

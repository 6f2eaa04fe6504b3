import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.text import normalize_thai, thai_digits_to_arabic, tone_skeleton, well_formed


@pytest.mark.parametrize("text, expected", [
    ("๒๕๖๒", "2562"), ("๙๐,๐๐๐.-", "90,000.-"), ("ปี 2564", "ปี 2564"), ("๗.๒.๒", "7.2.2"),
])
def test_thai_digits(text, expected):
    assert thai_digits_to_arabic(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("นํ้า", "น้ำ"), ("เเม่", "แม่"), ("ตะกลํา", "ตะกลำ"), ("  ปาน   ขำ ", "ปาน ขำ"), ("ปี ๒๕๖๒", "ปี 2562"),
    ("ก่่า", "ก่า"), ("ก้ี", "กี้"),  # duplicated tone mark; tone mark typed before its vowel
])
def test_normalize_thai(text, expected):
    assert normalize_thai(text) == expected


def test_normalize_keeps_vowels_and_tone_marks():
    assert normalize_thai("สิริภักดิ์กุล") == "สิริภักดิ์กุล"


def test_tone_skeleton_ignores_tone_marks_only():
    assert tone_skeleton("วัดใหม่ยายนุ๊ย") == tone_skeleton("วัดใหม่ยายนุ้ย")
    assert tone_skeleton("จีบ") != tone_skeleton("จิบ")


@given(st.text(alphabet=st.sampled_from(list("กขคนมาำํเแ่้๊๋์ิีึื ๑๒3ab\t")), max_size=40))
def test_normalize_is_idempotent(text):
    once = normalize_thai(text)
    assert normalize_thai(once) == once




def test_the_document_form_keeps_lines_and_tabs_and_fixes_the_same_characters():
    text = "ชื่อ\tนํ้า  เเม่\r\nปี ๒๕๖๒"
    assert normalize_thai(text, keep_lines=True) == "ชื่อ\tน้ำ แม่\nปี 2562"
    assert [normalize_thai(line) for line in normalize_thai(text, keep_lines=True).split("\n")] == [
        normalize_thai(line) for line in text.splitlines()]


@given(st.text(alphabet=st.sampled_from(list("กขคนมาำํเแ่้๊๋์ิีึื ๑๒3ab\t\n")), max_size=40))
def test_the_document_form_is_idempotent(text):
    once = normalize_thai(text, keep_lines=True)
    assert normalize_thai(once, keep_lines=True) == once


@given(st.text(alphabet=st.sampled_from(list("กขคนมอยรวาำะัํเแโใไๅ่้๊๋์ิีึืฺุู็ํ๎ ๑๒3ab\t\u200b\u00a0")), max_size=30))
def test_texts_without_a_mark_to_fix_skip_pythainlp_with_the_same_result(text):
    from common.text import _SPACES, _fix_characters, _thai_marks_fixed

    assert normalize_thai(text) == _thai_marks_fixed(_SPACES.sub(" ", _fix_characters(text)).strip())


def test_every_real_name_is_well_formed_and_ocr_shapes_are_not():
    from pythainlp.corpus import thai_family_names, thai_female_names, thai_male_names

    from synth.world import FIRST_NAMES, SURNAMES

    names = [*thai_family_names(), *thai_female_names(), *thai_male_names(), *FIRST_NAMES, *SURNAMES]
    assert len(names) > 20000 and [n for n in names if not well_formed(normalize_thai(n))] == []
    for misread in ("ณ์ฐพิมล ธรรมรักษ์", "ณ\ufffdฐพิมล", "สมชาย ่ใจดี", "กิีรติ", "ก่่า"):
        assert not well_formed(misread), misread

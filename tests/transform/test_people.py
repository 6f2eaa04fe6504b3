import pytest

from transform.people import parse_person


@pytest.mark.parametrize("raw, title, name, phone", [
    ("นางสาวทิพการ ทวีคุณ เบอร์โทร 6425", "นางสาว", "ทิพการ ทวีคุณ", "6425"),
    ("น.ส.ณัฐพิมล สิริภักดิ์กุล โทร 6628", "นางสาว", "ณัฐพิมล สิริภักดิ์กุล", "6628"),
    ("นายวรวิทย์ เทียงธรรม โทร 1512", "นาย", "วรวิทย์ เทียงธรรม", "1512"),
    ("นางสาวอรพรรณ เพชรเมณี (โทร.02 6289067)", "นางสาว", "อรพรรณ เพชรเมณี", "026289067"),
    ("นายภานุพงศ์ ศิริบุญ (โทร.1515)", "นาย", "ภานุพงศ์ ศิริบุญ", "1515"),
    ("นางสมศรี ดีใจ", "นาง", "สมศรี ดีใจ", None),
    ("ดร.สมชาย ใจดี", "ดร.", "สมชาย ใจดี", None),
    ("สมชาย ใจดี โทร ๑๒๓๔", None, "สมชาย ใจดี", "1234"),
])
def test_titles_and_phones_are_split_from_names(titles, raw, title, name, phone):
    person = parse_person(raw, "officer", 1, titles)
    assert (person.title_th, person.name_th, person.phone) == (title, name, phone)


def test_a_bare_title_is_no_person(titles):
    assert parse_person("นาย", "officer", 1, titles) is None

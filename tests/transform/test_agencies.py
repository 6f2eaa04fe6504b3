"""The agency behind every project, and the people of web pages resolved like those of printed forms."""

from __future__ import annotations

import pytest

from common.records import ParsedDump, ProjectHeader
from common.settings import MatchSettings
from tests.conftest import seed_path
from tests.transform.test_web_progress import page
from transform.agencies import match_department, place
from transform.entities import fold_documents, resolve_entities
from transform.parse import parse


def _dump(code: str | None, agency: str | None, mentions: tuple[str, ...] = ()) -> ParsedDump:
    header = ProjectHeader(code, 2566, "โครงการ", None, None, None, None, agency, agency)
    return ParsedDump("x.txt", "proposal", 1, header, mentions, (), (), (), ())


@pytest.mark.parametrize("code, agency, mentions, placed, district", [
    ("09000000-3255", "สำนักการศึกษา", ("ภาษีเจริญ",), "09000000", None),  # a department: no district, whatever
    ("50210000-3491", "สำนักงานเขตภาษีเจริญ", ("ภาษีเจริญ",), "50210000", "5021"),
    (None, "สำนักการศึกษา", (), "09000000", None),  # no code: the department by its name
    (None, "สำนักการศึกษ่า", (), "09000000", None),  # ... or an OCR variant of it
    (None, "สำนักการวางผังและพัฒนาเมือง", (), "18000000", None),  # the name 18000000 prints since its rename
    (None, "สำนักงานเขตภาษีเจรีญ", ("ภาษีเจรีญ",), "50210000", "5021"),  # a district office by its district
])
def test_placement(reference, code, agency, mentions, placed, district):
    result = place(_dump(code, agency, mentions), reference, MatchSettings())
    assert (result.agency_code, result.district_id) == (placed, district)
    assert not [f for f in result.findings if f.check_name in ("district_unresolved", "agency_unresolved")]


@pytest.mark.parametrize("code, printed, shown", [
    ("50070000-1234", "สำนักงานเขตดูสิต", "สำนักงานเขตดุสิต"),  # a scan's misreading of the office's name
    ("50310000-1234", "สำนักงานเขตบางชื่อ", "สำนักงานเขตบางซื่อ"),
    ("09000000-1234", "สำนักการศึกษ่า", "สำนักการศึกษา"),
    ("18000000-1234", "สำนักการวางผังและพัฒนาเมือง", "สำนักการวางผังและพัฒนาเมือง"),  # its name since the rename
    ("09000000-1234", "สำนักการศึกษาและวัฒนธรรม", "สำนักการศึกษาและวัฒนธรรม"),  # far from all: printed as read
])
def test_the_name_an_agency_prints_is_its_own_when_a_scan_misread_it(reference, code, printed, shown):
    assert place(_dump(code, printed, ("ดุสิต",)), reference, MatchSettings()).agency_th == shown


def test_an_agency_no_list_has_is_a_finding_not_a_guess(reference):
    result = place(_dump(None, "สำนักงานที่ไม่มีอยู่จริง"), reference, MatchSettings())
    assert result.agency_code is None and [f.check_name for f in result.findings] == ["agency_unresolved"]
    assert match_department("สำนักการ", reference.agencies) is None


@pytest.mark.parametrize("contact", [
    "นางสาวณัฐพิมล สิริภักดิ์กุล โทร. 6628", "ณัฐพิมล สิริภักดิ์กุล6628", "คุณณัฐพิมล โทร 6628",
    "น.ส.ณัฐพิมล สิริภักดิ์กุล หน.ฝ่ายการศึกษา (โทร 6628-9)", "ณัฐพิมล สิริภักดิ์กุล", "นางสาวณัฐพิมลล สิริภักดิ์กุล",
])
def test_one_person_on_a_form_and_on_a_page_is_one_identity(titles, reference, contact):
    """Dump 001's officer (โทร 6628) printed by a page of the same district in any shape: one officer."""
    form = parse(seed_path("001_d000cb5bc4147d98.txt").read_text(encoding="utf-8"), "form.txt", titles)
    web = parse(page("โครงการพัฒนาครู : 50210000-7777", "สำนักงานเขตภาษีเจริญ : (2566)", "50", contact, None),
                "page.txt", titles)
    documents = [(d, place(d, reference, MatchSettings())) for d in (form, web)]
    evidence = fold_documents((d, p.district_id) for d, p in documents)
    officers = [p for p in resolve_entities(evidence, reference, MatchSettings()).persons if p.family == "officer"]
    assert [(p.name_th, p.phone) for p in officers] == [("ณัฐพิมล สิริภักดิ์กุล", "6628")]

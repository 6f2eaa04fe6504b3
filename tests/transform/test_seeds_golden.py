"""Golden tests: every header field and every report of the five real dumps, as read by hand."""

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import seed_path
from transform.parse import parse

ON, MON, OFF = "on_plan", "on_plan_monitor", "off_plan"
T, NT = "on_target", "off_target"


def d(text: str | None):
    return date.fromisoformat(text) if text else None


def D(x):  # noqa: N802
    return None if x is None else Decimal(str(x))


# report_no, date, progress, running total, increment, plan, target
SEED_REPORTS = {
    "000_98014ed7986e81fa.txt": [
        (1, "2020-10-29", 5, 0, 0, ON, T), (2, "2020-11-26", 10, 0, 0, ON, T),
        (3, "2020-12-28", 15, 0, 0, ON, T), (4, "2021-01-26", 20, 0, 0, ON, T),
        (5, None, 25, 0, 0, ON, T),  # no date in any rendering but the garbled first one
        (6, "2021-03-26", 30, 0, 0, ON, T), (7, "2021-04-27", 35, 0, 0, ON, T),
        (8, "2021-05-25", 40, 0, 0, ON, T), (9, "2021-06-29", 100, 90000, 90000, ON, T),
        (10, "2021-07-29", 100, 90000, 0, ON, T), (11, "2021-08-26", 100, 90000, 0, ON, T),
        (12, "2021-09-22", 100, 90000, 0, ON, T),
    ],
    "001_d000cb5bc4147d98.txt": [
        (1, "2020-10-26", 5, 0, 0, ON, T), (2, "2020-11-25", 10, 0, 0, ON, T),
        (3, "2020-12-25", 25, 0, 0, ON, T), (4, "2021-01-25", 25, 0, 0, MON, T),
        (5, "2021-02-26", 30, 0, 0, ON, T), (6, "2021-03-29", 60, 0, 0, ON, T),
        (7, "2021-04-24", 70, 0, 0, ON, T), (8, "2021-05-28", 80, 0, 0, ON, T),
        (9, "2021-06-26", 80, 0, 0, MON, T), (10, "2021-08-20", 100, 180000, 180000, ON, T),
    ],
    "002_5c49e0dc0950e00c.txt": [(1, "2022-12-30", 20, None, None, None, None)],
    "003_4388095a2d907049.txt": [
        (1, "2019-10-24", 5, 0, 0, ON, T), (2, "2019-11-12", 10, 0, 0, ON, T),
        (3, "2019-12-16", 15, 0, 0, ON, T), (4, "2020-01-10", 20, 0, 0, ON, T),
        (5, "2020-02-24", 25, 0, 0, ON, T), (6, "2020-03-23", 40, 0, 0, ON, T),
        (7, "2020-04-22", 40, 0, 0, OFF, NT), (8, "2020-05-18", 40, 0, 0, OFF, NT),
        (9, "2020-06-18", 40, 0, 0, OFF, NT), (10, "2020-06-29", 40, 0, 0, OFF, NT),
        (11, "2020-07-21", 40, 0, 0, ON, T),
    ],
    "004_f9b80b41e945b38d.txt": [],
}

# code, fiscal year, name, budget, printed spent, start, end, layout, renderings
SEED_HEADERS = {
    "000_98014ed7986e81fa.txt": ("50020000-3255", 2564, "โครงการพัฒนาคุณภาพเครือข่ายโรงเรียน", 90000, 360000,
                                 "2020-10-01", "2021-09-30", "progress_form", 4),
    "001_d000cb5bc4147d98.txt": ("50210000-3491", 2564, "โครงการพัฒนาคุณภาพเครือข่ายโรงเรียน", 270000, 180000,
                                 "2020-10-01", "2021-09-29", "progress_form", 4),
    "002_5c49e0dc0950e00c.txt": ("50230000-3598", 2566, "ค่าใช้จ่ายในการพัฒนาคุณภาพเครือข่ายโรงเรียน", None, None,
                                 None, None, "web_progress", 1),
    "003_4388095a2d907049.txt": ("50010000-3358", 2563, "โครงการพัฒนาคุณภาพการดำเนินงานศูนย์วิชาการเขต", 32200, 0,
                                 "2019-10-01", "2020-09-30", "progress_form", 1),
    "004_f9b80b41e945b38d.txt": (None, 2562, "พัฒนาคุณภาพเครือข่ายโรงเรียน", 90000, None,
                                 "2018-10-01", "2019-07-31", "proposal", 1),
}

SEED_PEOPLE = {  # role -> (name, title, phone) as the majority of renderings prints it
    "000_98014ed7986e81fa.txt": {"officer": ("ทิพการ ทวีคุณ", "นางสาว", "6425"),
                                 "coordinator": ("ศศิวัฒน์ บุญวงศ์", "นาย", "1547")},
    "001_d000cb5bc4147d98.txt": {"officer": ("ณัฐพิมล สิริภักดิ์กุล", "นางสาว", "6628"),
                                 "coordinator": ("วรวิทย์ เทียงธรรม", "นาย", "1512")},
    "002_5c49e0dc0950e00c.txt": {},
    "003_4388095a2d907049.txt": {"officer": ("อรพรรณ เพชรเมณี", "นางสาว", "026289067"),
                                 "coordinator": ("ภานุพงศ์ ศิริบุญ", "นาย", "1515")},
    "004_f9b80b41e945b38d.txt": {"officer": ("รินทร์รัช จินดี", "นาย", None),
                                 "signatory": ("ธนาชิต ชูติกาญจน์", "นาย", None)},
}
SEED_NETWORKS = {"000_98014ed7986e81fa.txt": (), "001_d000cb5bc4147d98.txt": (53, 54, 55),
                 "002_5c49e0dc0950e00c.txt": (71, 72), "003_4388095a2d907049.txt": (),
                 "004_f9b80b41e945b38d.txt": (75,)}


@pytest.fixture(scope="module")
def parsed(titles):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = parse(seed_path(name).read_text(encoding="utf-8"), name, titles)
        return cache[name]
    return get


@pytest.mark.parametrize("name", sorted(SEED_HEADERS))
def test_header(parsed, name):
    dump = parsed(name)
    code, fy, title, budget, spent, start, end, layout, renderings = SEED_HEADERS[name]
    h = dump.header
    assert (h.project_code, h.fiscal_year, h.name_th) == (code, fy, title)
    assert (h.budget_thb, h.reported_spent_thb) == (D(budget), D(spent))
    assert (h.start_date, h.end_date) == (d(start), d(end))
    assert (dump.layout, dump.renderings) == (layout, renderings)
    assert dump.networks == SEED_NETWORKS[name]


@pytest.mark.parametrize("name", sorted(SEED_REPORTS))
def test_every_report(parsed, name):
    got = [(r.report_no, r.date, r.progress_pct, r.cumulative_thb, r.disbursed_thb, r.plan_status, r.target_status)
           for r in parsed(name).reports]
    want = [(no, d(day), D(pct).quantize(Decimal("0.01")), D(cum), D(inc), plan, target)
            for no, day, pct, cum, inc, plan, target in SEED_REPORTS[name]]
    assert got == want


@pytest.mark.parametrize("name", sorted(SEED_PEOPLE))
def test_people_majority_spelling(parsed, name):
    dump = parsed(name)
    for role, (person, title, phone) in SEED_PEOPLE[name].items():
        mentions = [m for m in dump.people if m.role == role]
        names = [m.name_th for m in mentions]
        assert max(set(names), key=names.count) == person
        assert {m.title_th for m in mentions} == {title}
        assert {m.phone for m in mentions} == {phone}


def test_ocr_variants_of_one_coordinator_are_all_read(parsed):
    names = {m.name_th for m in parsed("001_d000cb5bc4147d98.txt").people if m.role == "coordinator"}
    assert names == {"วรวิทย์ เทียงธรรม", "วรวิฒิ เทียงธรรม", "วรวิฑูรย์ เทียงธรรม"}


def test_missing_date_month_is_imputed_and_marked(parsed):
    report5 = parsed("000_98014ed7986e81fa.txt").reports[4]
    assert report5.date is None and report5.month_imputed and report5.period_month == date(2021, 2, 1)


def test_web_note_and_both_date_renderings_agree(parsed):
    dump = parsed("002_5c49e0dc0950e00c.txt")
    assert dump.reports[0].note_th == "ได้รับอนุมัติเงินประจำงวดอยู่ระหว่างดำเนินโครงการ"
    assert {v.value for v in dump.votes if v.field == "date"} == {date(2022, 12, 30)}
    assert [s.weight_pct for s in dump.steps] == [Decimal("20.00")] * 5


def test_proposal_district_mentions_are_all_kept_as_evidence(parsed):
    mentions = parsed("004_f9b80b41e945b38d.txt").district_mentions
    assert sorted(set(mentions)) == ["ราชบุรีบูรณะ", "ราชวัชรบุรี"]


# dump 001's narratives, network by network: (report, network, event, amount, reason starts with)
SEED_001_EVENTS = [
    (2, 53, "allocated", 90000, None), (2, 54, "allocated", 90000, None), (2, 55, "allocated", 90000, None),
    (3, 53, "in_progress", None, None), (3, 54, "in_progress", None, None), (3, 55, "in_progress", None, None),
    (5, 53, "in_progress", None, None), (5, 54, "in_progress", None, None), (5, 55, "in_progress", None, None),
    (6, 53, "in_progress", None, None), (6, 54, "in_progress", None, None), (6, 55, "activity_done", None, None),
    (7, 53, "in_progress", None, None), (7, 54, "activity_done", None, None),
    (8, 53, "in_progress", None, None), (8, 54, "disbursed", None, None), (8, 55, "disbursed", None, None),
    (9, 53, "in_progress", None, None), (9, 54, "disbursed", None, None), (9, 55, "disbursed", None, None),
    (10, 53, "not_disbursed", None, "การแพร่ระบาดของโรคติดเชื้อไวรัสโคโรนา 2019 (COVID-19)"),
    (10, 54, "disbursed", None, None), (10, 55, "disbursed", None, None),
]


def test_what_the_narratives_say_of_each_network(parsed):
    """Report 2 allots 90,000 to each of the three; 6: 55 held its exhibition, 54 picked its teachers and is
    preparing its exhibition, 53 is in progress; 8-9: 54 and 55 disbursed; 10: 53 did not, because of COVID-19
    (the rendering that places the narrative of report 8 under report 7 says nothing of report 7)."""
    dump = parsed("001_d000cb5bc4147d98.txt")
    got = [(e.report_no, e.network_no, e.event, e.amount_thb, e.reason_th) for e in dump.network_events]
    assert got == [(r, n, ev, D(a), why) for r, n, ev, a, why in SEED_001_EVENTS]
    assert not [f for f in dump.findings if f.check_name == "unsettled_disagreement"]
    votes = [v for v in dump.votes if v.field == "network_event:53" and v.report_no == 10]
    assert [v.value for v in votes] == ["not_disbursed"] * 4  # every rendering's vote, in the audit
    [e10] = [e for e in dump.network_events if (e.report_no, e.network_no) == (10, 53)]
    assert e10.sentence_th.startswith("เครือข่ายโรงเรียนที่ 53 ไม่ได้ดำเนินการเบิกจ่าย")


def test_every_seed_names_its_agency(parsed):
    assert {n: parsed(n).header.agency_th for n in SEED_HEADERS} == {
        "000_98014ed7986e81fa.txt": "สำนักงานเขตป้อมปราบศัตรูพ่าย", "001_d000cb5bc4147d98.txt": "สำนักงานเขตภาษีเจริญ",
        "002_5c49e0dc0950e00c.txt": "สำนักงานเขตบางขุนเทียน", "003_4388095a2d907049.txt": "สำนักงานเขตพระนคร",
        "004_f9b80b41e945b38d.txt": "สำนักงานเขตราชวัชรบุรี"}


def test_a_department_form_keeps_its_code_and_has_no_district(titles, reference):
    """Dump 000 as a project of the Education Department itself: its code, its agency, no district."""
    from common.settings import MatchSettings
    from transform.agencies import place

    text = seed_path("000_98014ed7986e81fa.txt").read_text(encoding="utf-8")
    text = text.replace("50020000-3255", "09000000-3255").replace("สำนักงานเขตป้อมปราบศัตรูพ่าย /", "สำนักการศึกษา /")
    dump = parse(text, "dept.txt", titles)
    assert dump.header.project_code == "09000000-3255" and dump.header.agency_th == "สำนักการศึกษา"
    placement = place(dump, reference, MatchSettings())
    assert (placement.agency_code, placement.district, placement.findings) == ("09000000", None, [])
    assert placement.home == "09000000"  # its officers belong to the department

"""Identities on the real seeds, and the rules that keep different people apart."""

import pytest

from schoolnet.settings import MatchSettings
from tests.conftest import SEEDS
from transform.entities import resolve_entities
from transform.parse import parse
from transform.persons import PersonNode, compare
from transform.records import PersonMention


@pytest.fixture(scope="module")
def resolution(titles, reference):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    dumps = [parse(p.read_text(encoding="utf-8"), p.name, titles) for p in sorted(SEEDS.glob("*.txt"))]
    return resolve_entities(dumps, reference, MatchSettings())


def test_districts_with_bma_codes(resolution):
    got = {f[:3]: (d.district_id, d.name_th) for f, d in resolution.district_of.items()}
    assert got == {"000": ("5002", "ป้อมปราบศัตรูพ่าย"), "001": ("5021", "ภาษีเจริญ"), "002": ("5023", "บางขุนเทียน"),
                   "003": ("5001", "พระนคร"), "004": ("5024", "ราษฎร์บูรณะ")}


def test_one_identity_per_person(resolution):
    names = sorted((p.family, p.name_th, p.phone) for p in resolution.persons)
    assert names == sorted([
        ("coordinator", "ศศิวัฒน์ บุญวงศ์", "1547"), ("coordinator", "วรวิทย์ เทียงธรรม", "1512"),
        ("coordinator", "ภานุพงศ์ ศิริบุญ", "1515"), ("officer", "ทิพการ ทวีคุณ", "6425"),
        ("officer", "ณัฐพิมล สิริภักดิ์กุล", "6628"), ("officer", "อรพรรณ เพชรเมณี", "026289067"),
        ("officer", "รินทร์รัช จินดี", None), ("officer", "ธนาชิต ชูติกาญจน์", None),
    ])


def test_every_raw_spelling_is_an_alias(resolution):
    coordinator = {a.raw_text for a in resolution.aliases if a.canonical_name == "วรวิทย์ เทียงธรรม"}
    assert coordinator == {"นายวรวิทย์ เทียงธรรม โทร 1512", "นายวรวิฒิ เทียงธรรม โทร 1512",
                           "นายวรวิฑูรย์ เทียงธรรม โทร 1512"}


def test_schools_take_the_registry_name(resolution):
    got = sorted((s.name_th, s.network_no, s.district_id, s.in_registry) for s in resolution.schools)
    assert got == [("วัดจันทร์ประดิษฐาราม", 54, "5021", True), ("วัดนิมมานรดี", 53, "5021", True),
                   ("วัดอ่างแก้ว (จีบ ปานขำ)", 55, "5021", True)]


def test_networks_link_to_districts(resolution):
    assert resolution.networks == {53: "5021", 54: "5021", 55: "5021", 71: "5023", 72: "5023", 75: "5024"}


def _node(name: str, phone: str | None, source: str, title: str = "นาย", family: str = "coordinator",
          district: str | None = None) -> PersonNode:
    m = PersonMention(family, f"{title}{name}", title, name, phone, 1)
    return PersonNode(family, source, family, [m], district)


def test_similar_names_with_different_phones_stay_apart():
    same, _, _ = compare(_node("สมชาย ใจดี", "1512", "a"), _node("สมชาติ ใจดี", "1599", "b"), MatchSettings())
    assert not same


def test_tone_mark_variant_with_same_phone_merges():
    same, _, _ = compare(_node("ณัฐพิมล สิริภักดิ์กุล", "6628", "a"), _node("ณัฐพิมล สิริภักดิกุล", "6628", "b"),
                         MatchSettings())
    assert same


def test_titles_of_different_genders_never_merge():
    same, _, evidence = compare(_node("สมใจ ดีงาม", "1500", "a", "นาย"), _node("สมใจ ดีงาม", "1500", "b", "นาง"),
                                MatchSettings())
    assert not same and "gender" in evidence


def test_officers_of_different_districts_without_phones_stay_apart():
    same, _, _ = compare(_node("สมใจ ดีงาม", None, "a", family="officer", district="5001"),
                         _node("สมใจ ดีงาม", None, "b", family="officer", district="5002"), MatchSettings())
    assert not same


def test_resolution_does_not_depend_on_file_order(titles, reference):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    dumps = [parse(p.read_text(encoding="utf-8"), p.name, titles) for p in sorted(SEEDS.glob("*.txt"))]
    a = resolve_entities(dumps, reference, MatchSettings())
    b = resolve_entities(list(reversed(dumps)), reference, MatchSettings())
    assert a.persons == b.persons and a.schools == b.schools and a.aliases == b.aliases


def test_ocr_variant_of_an_officer_without_phone_merges_within_a_district():
    a = _node("นพดล คำแหง", None, "a", family="officer", district="5010")
    b = _node("นพตล คำแหง", None, "b", family="officer", district="5010")
    assert compare(a, b, MatchSettings())[0]
    c = _node("นพตล คำแหง", None, "c", family="officer", district=None)
    assert not compare(a, c, MatchSettings())[0]  # without the district, 90 is not enough


def test_two_officers_of_one_district_sharing_a_surname_stay_apart():
    a = _node("สมชาย พงษ์ไพบูลย์", None, "a", family="officer", district="5012")
    b = _node("มาลัย พงษ์ไพบูลย์", "7942", "b", family="officer", district="5012")
    same, score, evidence = compare(a, b, MatchSettings())
    assert not same and score > 85 and "4 edits" in evidence  # similar by ratio, far by edits

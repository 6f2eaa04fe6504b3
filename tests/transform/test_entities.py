"""Identities on the real seeds, and the rules that keep different people apart."""

import pickle

import pytest

from common.records import PersonMention
from common.settings import MatchSettings, Settings
from flows.stages import run_once
from load.door import open_warehouse
from tests.conftest import REFERENCE, SEEDS
from transform.districts import resolve_district
from transform.entities import Evidence, fold_documents, resolve_entities
from transform.parse import parse
from transform.persons import LinkEvidence, PersonGroup, PersonNode, compare, resolve_people


def _seed_documents(titles, reference):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    dumps = [parse(p.read_text(encoding="utf-8"), p.name, titles) for p in sorted(SEEDS.glob("*.txt"))]
    return [(d, resolve_district(d, reference, MatchSettings())[0]) for d in dumps]


def _fold(documents):
    return fold_documents((d, district.district_id if district else None) for d, district in documents)


@pytest.fixture(scope="module")
def documents(titles, reference):
    return _seed_documents(titles, reference)


@pytest.fixture(scope="module")
def resolution(documents, reference):
    return resolve_entities(_fold(documents), reference, MatchSettings())


@pytest.fixture(scope="module")
def seed_warehouse(tmp_path_factory):
    if not SEEDS.is_dir():
        pytest.skip(f"real seed dumps not found at {SEEDS}")
    settings = Settings.from_env(raw_dir=SEEDS, warehouse_dir=tmp_path_factory.mktemp("wh"), reference_dir=REFERENCE)
    run_once(settings)
    con = open_warehouse(settings.warehouse_dir)
    yield con
    con.close()


def test_districts_with_bma_codes(documents):
    got = {d.source_file[:3]: (district.district_id, district.name_th) for d, district in documents}
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


def test_every_raw_spelling_is_an_alias(resolution, seed_warehouse):
    spellings = {r.name_th for r in resolution.person_rules if r.canonical_name == "วรวิทย์ เทียงธรรม"}
    assert spellings == {"วรวิทย์ เทียงธรรม", "วรวิฒิ เทียงธรรม", "วรวิฑูรย์ เทียงธรรม"}
    rows = seed_warehouse.execute("SELECT DISTINCT raw_text, method FROM entity_alias "
                                  "WHERE canonical_name = 'วรวิทย์ เทียงธรรม'").fetchall()
    assert {raw for raw, _ in rows} == {"นายวรวิทย์ เทียงธรรม โทร 1512", "นายวรวิฒิ เทียงธรรม โทร 1512",
                                        "นายวรวิฑูรย์ เทียงธรรม โทร 1512"}
    assert all(method in ("exact", "same_field_other_renderings") for _, method in rows)


def test_every_mention_resolves(seed_warehouse):
    missing = seed_warehouse.execute("SELECT count(*) FROM entity_alias WHERE canonical_id IS NULL "
                                     "AND entity_type <> 'district'").fetchone()[0]
    total = seed_warehouse.execute("SELECT count(*) FROM entity_alias").fetchone()[0]
    assert missing == 0 and total > 20
    people = seed_warehouse.execute(
        "SELECT left(p.source_file, 3), o.name_th, c.name_th FROM dim_project p "
        "LEFT JOIN dim_officer o USING (officer_id) LEFT JOIN dim_coordinator c USING (coordinator_id) "
        "ORDER BY 1").fetchall()
    assert [(f, o is not None, c is not None) for f, o, c in people] == [
        ("000", True, True), ("001", True, True), ("002", False, False), ("003", True, True), ("004", True, False)]
    assert people[1][2] == "วรวิทย์ เทียงธรรม"  # the web page (002) names nobody; a proposal (004) no coordinator


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


def test_a_phone_the_renderings_tie_on_is_not_known():
    def read(*phones: str) -> PersonNode:  # one scan: its passes and their fused reading, each a rendering
        return PersonNode("officer", "a", "officer", [PersonMention("officer", f"นางกมลชนก บุญวงศ์ โทร {p}", "นาง",
                                                                    "กมลชนก บุญวงศ์", p, r)
                                                      for r, p in enumerate(phones, 1)], "5001")

    assert read("1226", "7226", "\ufffd").phone is None  # the fused reading unsure: no vote, and a tie
    assert read("7226", "1226", "7226").phone == "7226"


def test_the_name_shown_is_one_thai_writing_can_have():
    # tesseract reads ั as ์ in most passes: 'ณ์ฐพิมล' is seen more often, and no Thai word starts so
    groups = [PersonGroup.of_node(_node(name, "1504", source, "นางสาว")) for name, source in (
        ("ณ์ฐพิมล ธรรมรักษ์", "a"), ("ณ์ฐพิมล ธรรมรักษ์", "b"), ("ณ\ufffdฐพิมล ธรรมรักษ์", "c"),
        ("ณัฐพิมล ธรรมรักษ์", "d"))]
    result = resolve_people(groups, MatchSettings())
    assert [p.name_th for p in result.persons] == ["ณัฐพิมล ธรรมรักษ์"]


def test_similar_names_with_different_phones_stay_apart():
    link = compare(_node("สมชาย ใจดี", "1512", "a"), _node("สมชาติ ใจดี", "1599", "b"), MatchSettings())
    assert not link.same and link.evidence is LinkEvidence.DIFFERENT_PHONES


def test_tone_mark_variant_with_same_phone_merges():
    link = compare(_node("ณัฐพิมล สิริภักดิ์กุล", "6628", "a"), _node("ณัฐพิมล สิริภักดิกุล", "6628", "b"),
                   MatchSettings())
    assert link.same and link.evidence is LinkEvidence.SAME_PHONE


def test_titles_of_different_genders_never_merge():
    link = compare(_node("สมใจ ดีงาม", "1500", "a", "นาย"), _node("สมใจ ดีงาม", "1500", "b", "นาง"), MatchSettings())
    assert not link.same and link.evidence is LinkEvidence.DIFFERENT_GENDERS and link.evidence.against


def test_officers_of_different_districts_without_phones_stay_apart():
    link = compare(_node("สมใจ ดีงาม", None, "a", family="officer", district="5001"),
                   _node("สมใจ ดีงาม", None, "b", family="officer", district="5002"), MatchSettings())
    assert not link.same and link.evidence is LinkEvidence.DIFFERENT_DISTRICTS


def test_resolution_does_not_depend_on_file_order(documents, reference):
    a = resolve_entities(_fold(documents), reference, MatchSettings())
    b = resolve_entities(_fold(reversed(documents)), reference, MatchSettings())
    assert a == b


def test_evidence_folds_in_any_grouping(documents, reference):
    """Batches fold in the workers and merge in the run: any split, in any order, gives one fold."""
    whole = _fold(documents)
    for split in range(1, len(documents)):
        left, right = _fold(documents[:split]), _fold(documents[split:])
        merged = Evidence()
        merged.merge(right)
        merged.merge(left)
        assert resolve_entities(merged, reference, MatchSettings()) == resolve_entities(whole, reference,
                                                                                      MatchSettings())
        assert merged.schools == whole.schools and merged.network_home == whole.network_home
        assert {k: (g.rep, g.nodes, g.spellings, g.files_digest) for k, g in merged.people.items()} == {
            k: (g.rep, g.nodes, g.spellings, g.files_digest) for k, g in whole.people.items()}


def test_evidence_does_not_grow_with_repeated_documents(documents):
    """The same people and schools in ten times the documents: the fold keeps tallies, not documents."""
    once = _fold(documents)
    many = _fold([(d.__class__(**{**{f: getattr(d, f) for f in d.__slots__}, "source_file": f"{n}-{d.source_file}"}),
                   district) for n in range(10) for d, district in documents])
    assert many.people.keys() == once.people.keys() and many.schools.keys() == once.schools.keys()
    assert sum(g.nodes for g in many.people.values()) == 10 * sum(g.nodes for g in once.people.values())
    assert len(pickle.dumps(many)) < 1.2 * len(pickle.dumps(once))


def test_ocr_variant_of_an_officer_without_phone_merges_within_a_district():
    a = _node("นพดล คำแหง", None, "a", family="officer", district="5010")
    b = _node("นพตล คำแหง", None, "b", family="officer", district="5010")
    assert compare(a, b, MatchSettings()).same
    c = _node("นพตล คำแหง", None, "c", family="officer", district=None)
    assert not compare(a, c, MatchSettings()).same  # without the district, 90 is not enough


def test_two_officers_of_one_district_sharing_a_surname_stay_apart():
    a = _node("สมชาย พงษ์ไพบูลย์", None, "a", family="officer", district="5012")
    b = _node("มาลัย พงษ์ไพบูลย์", "7942", "b", family="officer", district="5012")
    link = compare(a, b, MatchSettings())
    assert not link.same and link.score > 85 and "4 edits" in link.detail  # similar by ratio, far by edits

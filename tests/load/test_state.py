"""The parse cache is keyed by the parser's own fingerprint: no hand-bumped version to forget."""

import shutil

from common.records import ParsedDump, ProjectHeader
from load.state import ParseCache, parser_fingerprint
from tests.conftest import REFERENCE


def _dump() -> ParsedDump:
    header = ProjectHeader(None, 2564, "x", None, None, None, None, None)
    return ParsedDump("a.txt", "proposal", 1, header, (), (), (), (), ())


def test_the_fingerprint_follows_the_titles_the_parser_reads(tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(REFERENCE, ref)
    before = parser_fingerprint(str(ref))
    assert before == parser_fingerprint(str(REFERENCE))
    with (ref / "thai_name_titles.csv").open("a", encoding="utf-8") as fh:
        fh.write("นักเรียนนายร้อย,นนร.,m,x\n")
    parser_fingerprint.cache_clear()
    assert parser_fingerprint(str(ref)) != before


def test_a_parse_of_another_parser_version_is_never_used_and_is_pruned(tmp_path):
    cache = ParseCache(tmp_path, REFERENCE)
    cache.put("abc", _dump())
    assert cache.get("abc") == _dump()
    stale = tmp_path / "_state" / "parsed-0123456789abcdef"
    (stale).mkdir()
    (stale / "abc.pkl").write_bytes((cache.root / "abc.pkl").read_bytes())
    assert ParseCache(tmp_path, REFERENCE).prune_others() == [stale.name]
    assert not stale.exists() and cache.get("abc") == _dump()

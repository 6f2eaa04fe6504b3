"""The document store is keyed by the parser's own fingerprint: no hand-bumped version to forget."""

import shutil

from load.state import parser_fingerprint
from tests.conftest import REFERENCE


def test_the_fingerprint_follows_the_titles_the_parser_reads(tmp_path):
    ref = tmp_path / "ref"
    shutil.copytree(REFERENCE, ref)
    before = parser_fingerprint(str(ref))
    assert before == parser_fingerprint(str(REFERENCE))
    with (ref / "thai_name_titles.csv").open("a", encoding="utf-8") as fh:
        fh.write("นักเรียนนายร้อย,นนร.,m,x\n")
    assert parser_fingerprint(str(ref)) != before

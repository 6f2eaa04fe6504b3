"""One list of finding names: every name the code or the SQL can write to dq_issue is in it, and every
name in it is written somewhere."""

import re

import pytest

from common.findings import BY_NAME, CHECKS, check
from common.records import Finding
from common.settings import PROJECT_ROOT
from load.models import load_project

PACKAGES = ("common", "extract", "transform", "load", "flows")


def _names_in_code() -> set[str]:
    names = set()
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).glob("*.py"):
            names |= set(re.findall(r'Finding\.of\(\s*"([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    for path in (PROJECT_ROOT / "sql" / "marts").glob("*.sql"):
        names |= set(re.findall(r"'([a-z0-9_]+)'(?: AS check_name|, '(?:error|warning)')",
                                path.read_text(encoding="utf-8")))
    return names | {t.check_name for t in load_project().tests}


def test_every_finding_written_is_in_the_list():
    assert _names_in_code() - set(BY_NAME) == set()


def test_every_finding_in_the_list_is_written_somewhere():
    assert set(BY_NAME) - _names_in_code() == set()


def test_names_are_unique_and_severities_known():
    assert len(BY_NAME) == len(CHECKS) and {c.severity for c in CHECKS} == {"error", "warning"}


def test_a_finding_takes_its_severity_from_the_list():
    assert Finding.of("quarantined", "x").severity == "error"
    assert Finding.of("renderings_disagree", "x").severity == "warning"
    with pytest.raises(KeyError, match="not a known finding"):
        check("impossible_value")  # the old second name of implausible_value

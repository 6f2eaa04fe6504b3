"""The rates written next to the generator are the ones measured on the real dumps."""

from synth.measure import PHENOMENA_FILE, as_markdown, measure
from tests.conftest import seed_path


def test_phenomena_table_is_what_the_real_dumps_measure():
    seeds = seed_path("000_98014ed7986e81fa.txt").parent  # skips without ../shared/seeds
    table = as_markdown(measure(seeds))
    assert PHENOMENA_FILE.read_text(encoding="utf-8").startswith(table), "run python -m synth.measure --write"

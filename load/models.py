"""The SQL models and tests of sql/models.toml: what the assembly builds, in which order, and the tests a new
version must pass (each a SELECT of offending rows with columns project_key, source_file, detail)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common.findings import check
from common.settings import SQL_DIR
from load.duck import identifier, literal
from load.tables import SCHEMAS

MODELS_FILE = SQL_DIR / "models.toml"
MATERIALIZATIONS = ("table", "view")


class ModelsError(ValueError):
    """sql/models.toml names something that does not exist, or is malformed."""


BUILDS = ("whole", "per_document", "run", "published")


@dataclass(frozen=True)
class Model:
    name: str
    layer: str  # 'staging' or 'marts': the folder of its SQL
    materialized: str = "table"  # staging models only: 'table' or 'view'
    table: str = ""  # marts only: the published table its rows go to
    build: str = "whole"  # marts only: see sql/models.toml

    @property
    def path(self) -> Path:
        return SQL_DIR / self.layer / f"{self.name}.sql"

    def select(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Test:
    check_name: str
    table: str
    sql: str  # the offending rows: project_key, source_file, detail

    @property
    def severity(self) -> str:
        return check(self.check_name).severity


@dataclass(frozen=True)
class Project:
    staging: tuple[Model, ...]
    marts: tuple[Model, ...]
    tests: tuple[Test, ...]


@lru_cache(maxsize=2)
def load_project(path: Path = MODELS_FILE) -> Project:
    """The models and tests of the file; every name is checked against sql/ and the warehouse's tables."""
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    staging = tuple(Model(m["name"], "staging", m.get("materialized", "table")) for m in spec.get("staging", []))
    marts = tuple(Model(m["name"], "marts", table=m.get("table", m["name"]), build=m.get("build", "whole"))
                  for m in spec.get("mart", []))
    for model in (*staging, *marts):
        if not model.path.exists() or model.materialized not in MATERIALIZATIONS or model.build not in BUILDS:
            raise ModelsError(f"{path}: model {model.name!r}: no {model.path}, or materialized not in "
                              f"{MATERIALIZATIONS}, or build not in {BUILDS}")
        if model.layer == "marts" and model.table not in SCHEMAS:
            raise ModelsError(f"{path}: mart {model.name!r} writes to {model.table!r}, not a warehouse table")
    tests = [t for table_tests in spec.get("tests", []) for t in _table_tests(table_tests)]
    for c in spec.get("check", []):
        sql_path = SQL_DIR / "checks" / f"{c['name']}.sql"
        if not sql_path.exists():
            raise ModelsError(f"{path}: check {c['name']!r} has no {sql_path}")
        check(c["name"])
        tests.append(Test(c["name"], "", sql_path.read_text(encoding="utf-8")))
    return Project(staging, marts, tuple(tests))


def _table_tests(spec: dict) -> list[Test]:
    table = spec["table"]
    if table not in SCHEMAS:
        raise ModelsError(f"tests of {table!r}: not a warehouse table")
    columns = {f.name for f in SCHEMAS[table]}
    named = [c for group in spec.get("unique", []) for c in group] + list(spec.get("not_null", [])) \
        + list(spec.get("accepted_values", {})) + [r.split("->")[0].strip() for r in spec.get("relationships", [])]
    if missing := sorted(set(named) - columns):
        raise ModelsError(f"tests of {table!r} name columns it does not have: {missing}")
    keys = _context_columns(table)
    tests = [Test("unique", table, _unique(table, group, keys)) for group in spec.get("unique", [])]
    tests += [Test("not_null", table, _where(table, f"{identifier(c)} IS NULL", f"'{table}.{c} is NULL'", keys))
              for c in spec.get("not_null", [])]
    tests += [Test("accepted_values", table, _accepted(table, c, values, keys))
              for c, values in spec.get("accepted_values", {}).items()]
    tests += [Test("relationships", table, _relationship(table, r, keys)) for r in spec.get("relationships", [])]
    return tests


def _context_columns(table: str) -> tuple[str, str]:
    """How a failing row names its project and file (NULL where the table has no such column)."""
    columns = {f.name for f in SCHEMAS[table]}
    return ("project_key" if "project_key" in columns else "CAST(NULL AS VARCHAR)",
            "source_file" if "source_file" in columns else "CAST(NULL AS VARCHAR)")


def _where(table: str, condition: str, detail: str, keys: tuple[str, str]) -> str:
    return (f"SELECT {keys[0]} AS project_key, {keys[1]} AS source_file, {detail} AS detail "
            f"FROM {identifier(table)} WHERE {condition}")


def _unique(table: str, group: list[str], keys: tuple[str, str]) -> str:
    """The groups of `group` found more than once, with the first project and file of each. The groups are
    counted alone first (no string aggregate over every row: 4x faster at 500,000 rows), then only the
    duplicated ones are joined back for their names."""
    cols = ", ".join(identifier(c) for c in group)
    same = " AND ".join(f"t.{identifier(c)} IS NOT DISTINCT FROM dup.{identifier(c)}" for c in group)
    shown = " || ', ' || ".join(f"coalesce(CAST(t.{identifier(c)} AS VARCHAR), 'NULL')" for c in group)
    project, source = (k if k.startswith("CAST") else f"t.{k}" for k in keys)
    return (f"SELECT min({project}) AS project_key, min({source}) AS source_file, "
            f"'{table} ({', '.join(group)}) = (' || {shown} || ') appears ' || count(*) || ' times' AS detail "
            f"FROM {identifier(table)} t JOIN (SELECT {cols} FROM {identifier(table)} GROUP BY {cols} "
            f"HAVING count(*) > 1) dup ON {same} GROUP BY {', '.join(f't.{identifier(c)}' for c in group)}")


def _accepted(table: str, column: str, values: list[str], keys: tuple[str, str]) -> str:
    allowed = ", ".join(literal(v) for v in values)
    return _where(table, f"{identifier(column)} NOT IN ({allowed})",
                  f"'{table}.{column} = ' || {identifier(column)} || ' is not one of {', '.join(values)}'", keys)


def _relationship(table: str, spec: str, keys: tuple[str, str]) -> str:
    column, target = (part.strip() for part in spec.split("->"))
    other, other_column = target.split(".")
    if other not in SCHEMAS or other_column not in {f.name for f in SCHEMAS[other]}:
        raise ModelsError(f"tests of {table!r}: {spec!r} names no warehouse column")
    return _where(table, f"{identifier(column)} IS NOT NULL AND {identifier(column)} NOT IN "
                         f"(SELECT {identifier(other_column)} FROM {identifier(other)} "
                         f"WHERE {identifier(other_column)} IS NOT NULL)",
                  f"'{table}.{column} = ' || {identifier(column)} || ' has no {other} row'", keys)

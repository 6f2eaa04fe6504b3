"""The analysts' door to a warehouse: a DuckDB connection that only reads, from any working directory.

warehouse.duckdb is opened read-only with its views pointed at the folder opened (a moved or copied warehouse
answers too); then the file system is closed to DuckDB except the published versions and a temporary folder
of the connection's own (no COPY to another place, no ATTACH of another database, no INSTALL or LOAD, no
reading /etc/passwd), and the configuration is locked so no statement opens it again. What a connection runs
is checked statement by statement before it runs: only queries (SELECT, WITH, FROM, SHOW, DESCRIBE, SUMMARIZE),
EXPLAIN, PRAGMA and SET VARIABLE pass; COPY, ATTACH, CREATE, INSERT and the rest are refused with one line.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb

from load.duck import literal
from load.layout import CURRENT, DUCKDB_FILE, ROOT_VARIABLE, VERSIONS

READING = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "SET"})


class ReadOnlyError(PermissionError):
    """A statement an analyst's door does not run (it writes, attaches, installs...)."""


class NoWarehouseError(FileNotFoundError):
    """There is no warehouse.duckdb at that folder."""


def reading_statements(sql: str) -> list[str]:
    """The statements of `sql`, each checked: raises ReadOnlyError at the first one that is not a read."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ReadOnlyError(f"cannot be parsed: {str(exc).splitlines()[0]}") from None
    for statement in statements:
        kind = statement.type.name
        if kind not in READING:
            raise ReadOnlyError(f"{kind} statements are refused: the warehouse is read-only here (queries only; "
                                "keep your own tables in a database of your own, see docs/analyst_guide.md)")
    return [s.query for s in statements]


def open_warehouse(warehouse_dir: Path) -> WarehouseConnection:
    """warehouse.duckdb, read-only, its views on this folder; file access limited to the published versions and
    a temporary folder of this process's; the configuration locked. (DuckDB shares one database instance
    between the connections of a process to one file: the first configures and locks it, the others find it
    so.)"""
    root = warehouse_dir.resolve()
    path = root / DUCKDB_FILE
    if not path.exists():
        raise NoWarehouseError(f"no warehouse at {path}: run `schoolnet run` first")
    con = duckdb.connect(str(path), read_only=True)
    con.execute(f"SET VARIABLE {ROOT_VARIABLE} = {literal(root.as_posix())}")
    if con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
        return WarehouseConnection(con)
    scratch = _scratch()
    allowed = [f"{(root / CURRENT).as_posix()}/", f"{(root / VERSIONS).as_posix()}/", f"{scratch}/",
               f"{(root / VERSIONS).resolve().as_posix()}/"]
    for statement in (f"SET temp_directory = {literal(scratch)}",
                      f"SET allowed_directories = [{', '.join(literal(a) for a in dict.fromkeys(allowed))}]",
                      "SET enable_external_access = false", "SET autoinstall_known_extensions = false",
                      "SET autoload_known_extensions = false", "SET lock_configuration = true"):
        con.execute(statement)
    return WarehouseConnection(con)


SWITCH_RETRIES = 3


class _Wrapped:
    """A connection that hands what it does not define to the one it wraps, and closes it."""

    _con: duckdb.DuckDBPyConnection

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> _Wrapped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> object:
        if name == "_con":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self._con, name)


class WarehouseConnection(_Wrapped):
    """DuckDB's connection to warehouse.duckdb, whose execute() answers across a run's switch of versions: a
    view lists the files of current/ when the statement is bound and opens them when it runs; a run that makes
    a new version current between the two leaves one of the names missing (tests/flows/test_faults.py met it
    once in a full run, a reader querying in a loop through a run). The statement is then run again, over the
    new version; anything else is DuckDB's own connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self._con = con

    def execute(self, query: object, parameters: object = None) -> duckdb.DuckDBPyConnection:
        for attempt in range(SWITCH_RETRIES + 1):
            try:
                return self._con.execute(query, parameters) if parameters is not None else self._con.execute(query)
            except duckdb.IOException as exc:
                if attempt == SWITCH_RETRIES or not _lost_in_a_switch(str(exc)):
                    raise
        raise AssertionError("unreachable")



def _lost_in_a_switch(message: str) -> bool:
    return "No such file" in message and f"/{CURRENT}/" in message


_SCRATCH: list[str] = []


def _scratch() -> str:
    """This process's temporary folder for what DuckDB spills while answering (removed when the process ends)."""
    if not _SCRATCH:
        folder = tempfile.mkdtemp(prefix="schoolnet-query-")
        atexit.register(shutil.rmtree, folder, True)
        _SCRATCH.append(Path(folder).as_posix())
    return _SCRATCH[0]


class ReadOnlyConnection(_Wrapped):
    """A door's connection for Python (schoolnet.connect): DuckDB's own, with every statement given to execute,
    sql or query checked first. Anything else is the DuckDB connection's (its results and relations)."""

    def __init__(self, con: WarehouseConnection):
        self._con = con

    def execute(self, query: str, parameters: object = None) -> duckdb.DuckDBPyConnection:
        statements = reading_statements(query)
        if parameters is not None or len(statements) == 1:
            return self._con.execute(query, parameters) if parameters is not None else self._con.execute(query)
        for statement in statements[:-1]:
            self._con.execute(statement)
        return self._con.execute(statements[-1])

    def sql(self, query: str, **kwargs: object) -> duckdb.DuckDBPyRelation:
        reading_statements(query)
        return self._con.sql(query, **kwargs)

    query = sql

    def executemany(self, query: str, parameters: Iterable[object] = ()) -> duckdb.DuckDBPyConnection:
        reading_statements(query)
        return self._con.executemany(query, list(parameters))


"""Fact rows streamed to disk in chunks as documents are parsed, so memory does not grow with the corpus."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class ChunkWriter:
    """Appends Arrow tables as numbered Parquet chunks under <root>/<table>/."""

    def __init__(self, root: Path):
        self.root = root
        self.count = 0

    def write(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            if table.num_rows:
                path = self.root / name / f"chunk-{self.count:07d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, path, compression="snappy")
        self.count += 1

    def files(self, name: str) -> list[Path]:
        return sorted((self.root / name).glob("chunk-*.parquet"))

"""A database of one's own for a test or a benchmark run: an SQLite file, or a new database on
the local PostgreSQL that is dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_SERVER = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database(backend: str, directory: Path, prefix: str = "incbot_test", server: str = PG_SERVER) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'{prefix}-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

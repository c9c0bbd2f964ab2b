"""The database cursor behind ``GET /conformance/ndjson/cursor?id=ID``: rows of a real SQLite query.

The producer opens an in-memory SQLite database (the standard library's
``sqlite3``), runs an endless recursive query and yields its rows one at a
time as JSON records (``{"n": N, "text": "row N"}``); each fetch, and the
closing, runs in a worker thread, so the event loop never blocks on the
database. From its ``finally`` it closes the cursor and the connection, checks
that the cursor refuses to fetch again, and only then sets the record's
``cleanup`` (:mod:`spec.kit.observations`): an observed cleanup means the
cursor really is closed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread

from spec.kit.observations import Record

QUERY = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n, 'row ' || n FROM c"
)


def _close(cursor: sqlite3.Cursor, connection: sqlite3.Connection) -> bool:
    """Close *cursor* and *connection*; whether the cursor now refuses to fetch."""
    cursor.close()
    connection.close()
    try:
        cursor.fetchone()
    except sqlite3.ProgrammingError:
        return True
    return False


async def rows(record: Record) -> AsyncIterator[Any]:
    """The rows of :data:`QUERY`, for ever, reporting to *record*."""
    connection = await anyio.to_thread.run_sync(
        lambda: sqlite3.connect(":memory:", check_same_thread=False)
    )
    cursor = await anyio.to_thread.run_sync(connection.execute, QUERY)
    record.started.set()
    try:
        while True:
            row = await anyio.to_thread.run_sync(cursor.fetchone)
            if row is None:
                return
            record.produced += 1
            yield {"n": row[0], "text": row[1]}
    finally:
        with anyio.CancelScope(shield=True):
            closed = await anyio.to_thread.run_sync(_close, cursor, connection)
        if closed:
            record.cleanup.set()

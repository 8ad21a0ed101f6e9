"""The history entries of a slad database read with python's sqlite3, for tests and
benchmarks that check the file itself. Since schema version 12 one row holds the entries
one operation recorded for a ticket: the first in its columns, the others in more_entries
(lib/store/store_history.c), each entry keeping its own id (the row's id is its last's)."""

import sqlite3


def _parse_more(more):
    """[(at_ms, created_ms, kind, data, late)] of a more_entries text."""
    b = more.encode()
    out, pos = [], 0

    def number(stop):
        nonlocal pos
        end = b.index(stop, pos)
        v = int(b[pos:end])
        pos = end + 1
        return v

    while pos < len(b):
        at, created, late = number(b" "), number(b" "), number(b" ")
        klen = number(b":")
        kind = b[pos:pos + klen].decode()
        pos += klen
        if b[pos:pos + 2] == b"-:":
            data = None
            pos += 2
        else:
            dlen = number(b":")
            data = b[pos:pos + dlen].decode()
            pos += dlen
        if b[pos:pos + 1] != b"\n":
            raise ValueError(f"damaged more_entries at byte {pos}")
        pos += 1
        out.append((at, created, kind, data, late == 1))
    return out


def packed(db):
    """Whether the database has version 12's more_entries (a benchmark may measure an
    older build beside this one)."""
    return any(r[1] == "more_entries" for r in db.execute("PRAGMA table_info(history)"))


def entries(db, where="1", params=()):
    """Every entry of the rows of history matching where (SQL over the row's columns), in id
    order, as dicts: id, ticket_id, at_ms, created_ms, kind, data, late."""
    more_column = "more_entries" if packed(db) else "NULL"
    return entries_of_rows(db.execute(
        f"SELECT id, ticket_id, at_ms, created_ms, kind, data, late, {more_column}"
        f" FROM history WHERE {where} ORDER BY id", params))


def entries_of_rows(rows):
    """entries() of rows already read (id, ticket_id, at_ms, created_ms, kind, data, late,
    more_entries, in id order), as tuples or as dicts of those names (Daemon.sql's, on
    either backend; on PostgreSQL each entry is a row of its own, more_entries NULL)."""
    out = []
    names = ("id", "ticket_id", "at_ms", "created_ms", "kind", "data", "late", "more_entries")
    for r in rows:
        if isinstance(r, dict):
            r = tuple(r[n] for n in names)
        rid, tid, at, created, kind, data, late, more = r
        row = [(at, created, kind, data, late != 0)] + (_parse_more(more) if more else [])
        first = rid - len(row) + 1
        for i, (a, c, k, d, lt) in enumerate(row):
            out.append({"id": first + i, "ticket_id": tid, "at_ms": a, "created_ms": c,
                        "kind": k, "data": d, "late": lt})
    return out


def step_lags(path, first_ms, last_ms):
    """created_ms - at_ms (the instant slad acted minus the due instant) of every step due
    from first_ms to last_ms in the database file at path, read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = entries(con, "at_ms BETWEEN ? AND ?", (first_ms, last_ms))
    con.close()
    return [e["created_ms"] - e["at_ms"] for e in rows
            if e["kind"] == "step" and first_ms <= e["at_ms"] <= last_ms]

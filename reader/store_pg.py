"""Run state in PostgreSQL (``vnreader[postgres]``: psycopg 3), for runs and workers on several machines.

The same queries as the SQLite :class:`~reader.store.Store` (``reader/store.py``'s
``StateStore``); only the connection, placeholders, transactions and locking differ. Every
statement runs in autocommit mode, every write in one ``transaction()``; claims lock the rows
they take with ``FOR UPDATE SKIP LOCKED``, so concurrent claimers each get other entries.

The database (or the schema a URL's ``options=-c search_path=…`` picks) holds one state: one
feed. Runs sharing it coordinate through session advisory locks keyed by the schema (see
:meth:`PgStore.run_turn`); a run that dies loses its locks with its connection.

    [state]
    url = "postgresql://vnreader:SECRET@db.example/vnreader"

Messages name the state by its URL with the password replaced by ``***``.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from reader.errors import StateError, UsageError
from reader.store import RunTurn, StateStore, redact

CONNECT_TIMEOUT = 10  #: seconds to reach the server before the run gives up (exit 2)


def _psycopg(where: str = "postgresql://…"):
    """psycopg, imported only when PostgreSQL state is asked for (an optional extra); the error
    names ``where`` (the state's URL, password hidden), whether it came from ``--state`` or ``[state] url``."""
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError as e:
        raise UsageError(where, "PostgreSQL state needs the psycopg package, which is not installed",
                         fix="pip install 'vnreader[postgres]' (the PostgreSQL extra: psycopg 3)") from e
    return psycopg, dict_row


def _placeholders(sql: str) -> str:
    """``?`` (the shared queries' style) → ``%s``; a literal ``%`` doubled first."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgStore(StateStore):
    """The state in a PostgreSQL database, at ``url`` (``postgresql://user:password@host:port/db``)."""

    dialect = "postgres"
    _lock_rows = " FOR UPDATE SKIP LOCKED"
    _lock_row = " FOR UPDATE"

    def __init__(self, url: str):
        from reader.migrations import migrate

        self.url = url
        self.where = redact(url)
        psycopg, dict_row = _psycopg(self.where)
        self._errors = (psycopg.OperationalError, psycopg.InterfaceError)
        self._sql: dict[str, str] = {}
        try:
            self.db = psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT)
        except (psycopg.Error, ValueError) as e:
            raise UsageError(self.where, f"cannot connect to the PostgreSQL state: {_first_line(e)}",
                             fix="check the URL (user, host, port, database) and that the server accepts it") from e
        try:
            migrate(self)
        except psycopg.Error as e:
            self.db.close()
            raise UsageError(self.where, f"cannot set up the PostgreSQL state: {_first_line(e)}",
                             fix="the user needs to create tables in the database (or its search_path schema)") from e
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def _execute(self, sql: str, params: tuple | list = ()) -> Any:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = _placeholders(sql)
        try:
            return self.db.execute(text, tuple(params))
        except self._errors as e:
            raise StateError(self.where, f"the PostgreSQL state failed: {_first_line(e)}") from e

    def _tx(self) -> contextlib.AbstractContextManager:
        return self.db.transaction()

    # ------------------------------------------------------------ runs sharing the state
    def _lock_key(self, what: str) -> int:
        row = self._one("SELECT hashtext(CAST(? AS TEXT) || current_schema()) AS k", (f"vnreader:{what}:",))
        return int(row["k"])

    @contextlib.contextmanager
    def run_turn(self) -> Iterator[RunTurn]:
        """A run's turn, shared with the other runs of this state (on any machine).

        Every run holds the run key shared while it lasts. A run that finds no other (it gets
        the key exclusively) is ``alone``: it holds the key exclusively until ``share()``, so no
        run starts while it sweeps a dead run's temp files and leases. ``publishing()`` takes
        the publish key: one run at a time builds digests and ``feed.xml``, the last sees all.
        """
        turn = _PgTurn(self, self._lock_key("run"), self._lock_key("publish"))
        try:
            turn.start()
            yield turn
        finally:
            with contextlib.suppress(StateError):
                self._execute("SELECT pg_advisory_unlock_all()")


class _PgTurn(RunTurn):
    def __init__(self, store: PgStore, run_key: int, publish_key: int):
        self.store, self.run_key, self.publish_key = store, run_key, publish_key
        self.alone = False
        self._exclusive = False
        self._publishing = False

    def _try(self) -> bool:
        return bool(self.store._one("SELECT pg_try_advisory_lock(?) AS ok", (self.run_key,))["ok"])

    def start(self) -> None:
        self.alone = self._exclusive = self._try()
        self.store._execute("SELECT pg_advisory_lock_shared(?)", (self.run_key,))

    def share(self) -> None:
        if self._exclusive:
            self.store._execute("SELECT pg_advisory_unlock(?)", (self.run_key,))
            self._exclusive = False

    def publishing(self) -> None:
        if not self._publishing:
            self.store._execute("SELECT pg_advisory_lock(?)", (self.publish_key,))
            self._publishing = True

    def still_alone(self) -> bool:
        if self._exclusive:
            return True
        if not self._try():
            return False
        self.store._execute("SELECT pg_advisory_unlock(?)", (self.run_key,))
        return True


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]

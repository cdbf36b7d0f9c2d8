"""What the daily run tells the operator.

* On a terminal: a progress bar per stage (tqdm) and the summary.
* Otherwise (cron, systemd, pipes): plain structured lines on stderr,
  ``2026-11-26T06:00:01Z INFO event=episode source=VnExpress title="…"``, or one JSON
  object per line with ``--log-json``.
* ``--quiet``: nothing at all when nothing changed; only errors and the one-line summary
  otherwise. ``--verbose``: debug lines too (each feed's HTTP outcome, skipped entries).

The end-of-run summary and the exit code are ``reader/cli.py``'s (``run_summary``): this
module only writes the run's own log lines.
"""
from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import IO, Iterator

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def _value(v) -> str:
    s = str(v)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return json.dumps(s, ensure_ascii=False)
    return s


class RunLog:
    """Log lines and progress for one run (no global state: make one per run)."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, as_json: bool = False,
                 stream: IO[str] | None = None, progress: bool | None = None, clock=None):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.as_json = as_json
        self.threshold = LEVELS["error"] if quiet else LEVELS["debug"] if verbose else LEVELS["info"]
        if progress is None:
            progress = (not quiet and not as_json and hasattr(self.stream, "isatty") and self.stream.isatty())
        self.show_progress = progress and _tqdm() is not None
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._bar = None
        self.warnings: list[str] = []  #: what the run lost without failing an item, once each; the summary counts them

    def lost(self, event: str, what: str, **fields) -> None:
        """Something was lost without failing an item (a damaged record, an unusable cache): one
        warning line the first time, and one entry in ``warnings`` for the summary."""
        if what in self.warnings:
            return
        self.warnings.append(what)
        self.warning(event, message=what, **fields)

    @contextmanager
    def capture(self, name: str = "reader") -> Iterator[None]:
        """While the run lasts, ``logging`` warnings of ``name`` and below come here (``lost``)
        instead of the root logger: modules the run cannot hand its log to still speak through it."""
        logger = logging.getLogger(name)
        handler = _Forward(self)
        logger.addHandler(handler)
        propagate, logger.propagate = logger.propagate, False
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.propagate = propagate

    # ------------------------------------------------------------ lines
    def log(self, level: str, event: str, **fields) -> None:
        if LEVELS[level] < self.threshold:
            return
        ts = self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {k: v for k, v in fields.items() if v is not None}
        if self.as_json:
            line = json.dumps({"ts": ts, "level": level, "event": event, **{k: str(v) if not isinstance(v, (int, float, bool)) else v for k, v in fields.items()}},
                              ensure_ascii=False)
        else:
            line = f"{ts} {level.upper()} event={event}" + "".join(f" {k}={_value(v)}" for k, v in fields.items())
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def debug(self, event: str, **fields) -> None:
        self.log("debug", event, **fields)

    def info(self, event: str, **fields) -> None:
        self.log("info", event, **fields)

    def warning(self, event: str, **fields) -> None:
        self.log("warning", event, **fields)

    def error(self, event: str, **fields) -> None:
        self.log("error", event, **fields)

    # ------------------------------------------------------------ progress
    @contextmanager
    def progress(self, total: int, desc: str) -> Iterator:
        """A bar on a terminal; a no-op otherwise. Yields an object with ``update(n=1)``."""
        if not self.show_progress or total <= 0:
            yield _NoBar()
            return
        tqdm = _tqdm()
        bar = tqdm(total=total, desc=desc, file=self.stream, unit="bài", leave=False, dynamic_ncols=True)
        self._bar = bar
        try:
            yield bar
        finally:
            self._bar = None
            bar.close()


class _Forward(logging.Handler):
    """A ``logging`` handler that hands warnings to a RunLog (``RunLog.capture``)."""

    def __init__(self, log: RunLog):
        super().__init__(logging.WARNING)
        self.runlog = log

    def emit(self, record: logging.LogRecord) -> None:
        self.runlog.lost(record.name.rsplit(".", 1)[-1], record.getMessage())


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm

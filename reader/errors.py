"""One error tree for vnreader.

    ReaderError                      anything vnreader reports to the user
    ├── UsageError                   bad arguments or configuration (exit 2)
    │   └── ConfigError              a config file is wrong: file, line, fix
    ├── FetchError                   a URL, file or feed could not be read
    │   ├── HTTPStatusError          the server answered 4xx/5xx
    │   ├── TooLargeError            the body passed the size cap
    │   ├── BlockedAddressError      the address is not public (loopback, private, metadata…): not fetched
    │   └── FeedError                not a feed / unreadable feed
    ├── ExtractError                 a page has no article body
    ├── TextError                    text could not be split or normalised
    ├── LimitError                   the input passes a cap (characters, sentences, minutes)
    ├── EngineError                  a TTS engine failed
    │   ├── EngineUnavailable        the engine cannot run here (missing package, network)
    │   │   └── UnknownVoice         no such voice for this engine (exit 2: a usage error)
    │   ├── EngineTimeout            the engine did not answer in time
    │   └── EngineBusy               the service refused or dropped the request for now (429, 5xx); retried,
    │                                after its Retry-After (``retry_after``) when it gave one
    ├── AudioError                   joining, encoding or tagging failed
    ├── PublishError                 the feed could not be written
    │   └── StorageError             object storage (a folder or S3) refused or failed an operation
    ├── QueueError                   the job queue's broker is unreachable or was lost (vnreader[queue])
    ├── LockedError                  another run holds the lock
    └── StateError                   the state database failed while in use (PostgreSQL: the connection)
        └── ClaimLostError           another worker took over an entry's lease: its outcome is not stored

Every subclass sets a class-level ``message`` (what went wrong, in general) and carries
the object it is about (``subject``: URL, path, engine name) plus a ``fix`` hint.
``expected`` is True for failures the user can cause or fix (network, bad page, bad
input); False marks bugs. Only ``cli.py`` turns these into text and exit codes.
Wrap third-party errors where they are called: ``raise FetchError(url, ...) from e``.
"""
from __future__ import annotations


class ReaderError(Exception):
    message = "vnreader failed"
    fix: str | None = None
    expected = True
    exit_code = 1

    def __init__(self, subject: object = None, detail: str | None = None, *, fix: str | None = None):
        self.subject = subject
        self.detail = detail
        if fix is not None:
            self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.subject not in (None, ""):
            parts.append(f"{self.subject}:")
        parts.append(self.detail or self.message)
        text = " ".join(parts)
        if self.fix:
            text += f" ({self.fix})"
        return text


class UsageError(ReaderError):
    message = "bad usage"
    exit_code = 2


class ConfigError(UsageError):
    message = "bad configuration"

    def __init__(self, subject: object = None, detail: str | None = None, *, line: int | None = None,
                 fix: str | None = None):
        self.line = line
        if line is not None and subject is not None:
            subject = f"{subject}:{line}"
        super().__init__(subject, detail, fix=fix)


class FetchError(ReaderError):
    message = "could not fetch"
    fix = "check the URL or path and the network"


class HTTPStatusError(FetchError):
    message = "the server answered with an error"

    def __init__(self, subject: object = None, detail: str | None = None, *, status: int | None = None,
                 fix: str | None = None):
        self.status = status
        super().__init__(subject, detail, fix=fix)


class TooLargeError(FetchError):
    message = "the response is larger than the size cap"
    fix = "raise --max-bytes if the page is really that big"


class BlockedAddressError(FetchError):
    """The server's reading form refused a host: it resolves to a non-public address (reader/netguard.py)."""

    message = "the address is not a public one"
    fix = "give the URL of a public news page (`vnreader serve --allow-private-fetch` lifts this)"

    def __init__(self, subject: object = None, detail: str | None = None, *, reason: str = "",
                 fix: str | None = None):
        self.reason = reason  #: netguard; "loopback", "private network", "cloud metadata", "unresolved", …
        super().__init__(subject, detail, fix=fix)


class FeedError(FetchError):
    message = "not a readable RSS/Atom feed"
    fix = "check the feed URL in feeds/sources.toml"


class ExtractError(ReaderError):
    message = "no article body found"
    fix = "check that the page is an article (not a menu, paywall or error page), or add a site profile in feeds/sites/"


class TextError(ReaderError):
    message = "text could not be processed"


class LimitError(ReaderError):
    """An input is longer than a cap in :class:`reader.limits.Limits`; nothing more is rendered."""

    message = "the input is longer than the limit"

    def __init__(self, subject: object = None, detail: str | None = None, *, count: float = 0, limit: float = 0,
                 unit: str = "characters", option: str = "chars", more: bool = False, fix: str | None = None):
        self.count, self.limit, self.unit, self.option = count, limit, unit, option
        if detail is None:
            detail = f"{'more than ' if more else ''}{_num(count)} {unit} is over the limit of {_num(limit)}"
        if fix is None:
            fix = f"raise it with --max-{option}, or max_{option} in the [limits] table of the sources file"
        super().__init__(subject, detail, fix=fix)


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


class EngineError(ReaderError):
    message = "the speech engine failed"


class EngineUnavailable(EngineError):
    message = "the speech engine cannot run here"


class UnknownVoice(EngineUnavailable):
    message = "the speech engine has no such voice"
    exit_code = 2


class EngineTimeout(EngineError):
    message = "the speech engine did not answer in time"
    fix = "check the network or raise the timeout"


class EngineBusy(EngineError):
    message = "the speech service refused or dropped the request for now"
    fix = "try again later, or lower the concurrency and request rate"

    def __init__(self, subject: object = None, detail: str | None = None, *, retry_after: float | None = None,
                 fix: str | None = None):
        #: seconds the service asked to wait (its Retry-After header), None = it did not say;
        #: ``render`` waits that long (capped at ``render.MAX_RETRY_AFTER``) before retrying
        self.retry_after = retry_after
        super().__init__(subject, detail, fix=fix)


class AudioError(ReaderError):
    message = "audio could not be assembled or encoded"


class PublishError(ReaderError):
    message = "the feed could not be written"


class QueueError(ReaderError):
    """The broker of ``vnreader run --queue`` / ``vnreader worker`` (reader/queue.py) cannot be reached,
    was lost mid-run, or no worker finished a job in time. ``subject`` is the broker URL (password hidden)."""

    message = "the job queue cannot be used"
    fix = "check that the broker (Redis) is running and the URL is right (`redis-cli -u URL ping`), and that workers run"


class StorageError(PublishError):
    """An object storage operation failed (``reader/storage.py``): S3 unreachable, bad credentials, no bucket."""

    message = "the object storage failed"
    fix = "check the storage URL, the endpoint (AWS_ENDPOINT_URL) and the credentials (AWS_ACCESS_KEY_ID)"


class LockedError(ReaderError):
    message = "another vnreader run is in progress"
    fix = "wait for it to finish, or remove the stale lock file if no run is active"
    exit_code = 3


class StateError(ReaderError):
    """The state database failed after it was opened (a dropped PostgreSQL connection, a server
    restart); opening it wrongly is a UsageError."""

    message = "the state database failed"
    fix = "check that the database server is up and reachable, then run again"


class ClaimLostError(StateError):
    """An entry's lease (``StateStore.claim``) ended and another worker claimed it before this one
    finished: the other worker's outcome stands, this one is not stored."""

    message = "another worker took over this entry"
    fix = "nothing to do: the other worker renders it (raise [state] lease if articles take longer than it)"

"""remote: any OpenAI-compatible speech server (``POST {url}/v1/audio/speech``), e.g. a GPU box.

Most self-hosted neural TTS servers speak this interface, Vietnamese ones included, so one
GPU machine can serve many render workers. The body is JSON::

    {"model": "tts-1", "voice": "alloy", "input": "<one sentence>", "response_format": "wav", "speed": 1.0}

**Why WAV.** The engine asks for ``wav`` and reads the sample rate, channels and sample width
from its header (16-bit or 32-bit integer, or 32-bit float; stereo is mixed down). ``pcm``
would be smaller, but it is headerless: OpenAI sends 24 kHz, self-hosted servers send
whatever their model makes (22.05 kHz for Piper voices, 16 kHz for many others), and a wrong
guess plays at the wrong speed with no error. MP3 or Opus would need a decoder and lose
quality before our own encoder. A streaming WAV whose header gives no data size (0 or
0xFFFFFFFF) is read to its end.

Settings come from a :class:`reader.config.SpeechSettings` (``[speech]`` in the sources file,
``--speech-url/--speech-model/--speech-voice``): base URL, model, voice, request timeout,
``concurrency`` (requests in flight for one document; ``render`` reads ``engine.concurrency``)
and ``rate`` (request starts per second, through a :mod:`reader.ratelimit` bucket, shared over
Redis with ``rate_url``). The API key comes from ``VNREADER_SPEECH_API_KEY`` and goes only
into the ``Authorization: Bearer`` header: it is never logged, printed or put in an error.

Errors are translated here: 429 and 503 become ``EngineBusy`` with the server's Retry-After
(``render`` waits that long, capped, before it retries), other 5xx and dropped connections
``EngineBusy``, 401/403 ``EngineUnavailable`` naming the environment variable, a refused
connection ``EngineUnavailable`` naming the URL, timeouts ``EngineTimeout``, other 4xx
``EngineError`` with the server's own message. ``pitch`` is ignored (the API has none).
"""
from __future__ import annotations

import io
import logging
import os
import struct
import threading
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from reader.config import SpeechSettings
from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable, ReaderError, UsageError
from reader.models import Clip
from reader.tts.base import check_rate, check_text

API_KEY_ENV = "VNREADER_SPEECH_API_KEY"
PATH = "/v1/audio/speech"
RESPONSE_FORMAT = "wav"
NOT_CONFIGURED = ("not configured: give --speech-url URL, or url in the [speech] table of the sources file "
                  "(an OpenAI-compatible /v1/audio/speech server)")
log = logging.getLogger(__name__)


class RemoteEngine:
    """An OpenAI-compatible ``/v1/audio/speech`` server, over httpx."""

    name = "remote"
    online = True  #: talks to a server; `check()` makes no network call, `probe()` does
    max_chars = 4096  #: OpenAI's limit per request; sentences are far shorter
    sample_rate = 24000  #: what OpenAI sends; each clip carries the rate its WAV header gave
    max_rate = None  #: render's own spacing is off: the engine's bucket (settings.rate) limits requests

    def __init__(self, voice: str | None = None, *, speech: SpeechSettings | None = None, limiter=None,
                 client=None, **_options) -> None:
        self.settings = speech or SpeechSettings()
        self.default_voice = voice or self.settings.voice
        self.concurrency = self.settings.concurrency  #: requests in flight (render's default)
        self._limiter = limiter
        self._client = client
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Part of the clip cache key: another model or server speaks differently."""
        return f"{self.settings.model}@{self.settings.url or '-'}"

    @property
    def endpoint(self) -> str:
        return f"{(self.settings.url or '').rstrip('/')}{PATH}"

    def check(self) -> str | None:
        if not self.settings.url:
            return NOT_CONFIGURED
        try:
            import httpx  # noqa: F401
        except ImportError:
            return "the httpx package is not installed (pip install httpx)"
        if self.settings.rate_url:
            try:
                import redis  # noqa: F401
            except ImportError:
                return "rate_url needs the redis package (pip install 'vnreader[queue]')"
        return None

    def probe(self) -> str | None:
        """Ask the server (``GET {url}/v1/models``): None when it answers, else why not and the fix."""
        import httpx

        why = self.check()
        if why is not None:
            return why
        url = f"{(self.settings.url or '').rstrip('/')}/v1/models"
        try:
            r = self._http().get(url, headers=self._headers(), timeout=min(self.settings.timeout, 10.0))
        except httpx.HTTPError as e:
            return str(_transport_error(self.name, e, self.settings.url or "", self.settings.timeout))
        if r.status_code in (401, 403):
            return str(_auth_error(self.name, r.status_code))
        if r.status_code >= 500:
            return f"{self.settings.url} answered {r.status_code} (the server is up but failing)"
        return None

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        import httpx

        check_text(self.name, text, self.max_chars)
        rate = check_rate(self.name, rate)
        voice = voice or self.default_voice
        if not self.settings.url:  # a usage error (exit 2), like an unknown engine
            raise UsageError(self.name, "no speech server configured",
                             fix="give --speech-url URL, or url in the [speech] table of the sources file")
        limiter = self._bucket()
        if limiter is not None:
            limiter.acquire()
        body = {"model": self.settings.model, "voice": voice, "input": text, "response_format": RESPONSE_FORMAT,
                "speed": rate}
        log.debug("POST %s model=%s voice=%s chars=%d", self.endpoint, self.settings.model, voice, len(text))
        try:
            r = self._http().post(self.endpoint, json=body, headers=self._headers())
        except httpx.HTTPError as e:
            raise _transport_error(self.name, e, self.settings.url, self.settings.timeout) from e
        if r.status_code != 200:
            raise _status_error(self.name, r, self.endpoint, voice, self.settings.model)
        pcm, sample_rate = decode_wav(self.name, r.content)
        return Clip(pcm=pcm, sample_rate=sample_rate, engine=self.name, voice=voice)

    # ------------------------------------------------------------------ helpers
    def _headers(self) -> dict[str, str]:
        key = os.environ.get(API_KEY_ENV, "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _http(self):
        """One httpx client per engine (thread-safe, keep-alive), sized to the concurrency."""
        import httpx

        with self._lock:
            if self._client is None:
                n = max(1, self.concurrency)
                self._client = httpx.Client(timeout=httpx.Timeout(self.settings.timeout),
                                            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
            return self._client

    def _bucket(self):
        """The rate limit: given by the factory (shared by a run's engines), else made from the settings."""
        with self._lock:
            if self._limiter is None and self.settings.rate > 0:
                self._limiter = make_limiter(self.settings)
            return self._limiter


def make_limiter(settings: SpeechSettings):
    """A rate limit for ``settings``: None without ``rate``; shared over Redis with ``rate_url``.

    Processes that share ``rate_url`` and the server ``url`` share one bucket (its key names the URL).
    """
    from reader.ratelimit import RedisTokenBucket, TokenBucket

    if not settings.rate > 0:
        return None
    if settings.rate_url:
        return RedisTokenBucket(settings.rate_url, f"vnreader:ratelimit:speech:{settings.url}", settings.rate)
    return TokenBucket(settings.rate)


def _auth_error(engine: str, status: int) -> EngineUnavailable:
    if os.environ.get(API_KEY_ENV, "").strip():
        return EngineUnavailable(engine, f"the speech server refused the API key ({status})",
                                 fix=f"check {API_KEY_ENV} (the key the server expects)")
    return EngineUnavailable(engine, f"the speech server wants an API key ({status})",
                             fix=f"set {API_KEY_ENV} in the environment")


def _transport_error(engine: str, e: Exception, url: str, timeout: float) -> ReaderError:
    import httpx

    from reader.neterrors import describe

    if isinstance(e, httpx.TimeoutException):
        return EngineTimeout(engine, f"{url}: no answer in {timeout:g} s",
                             fix="raise timeout in the [speech] table, or lower concurrency")
    if isinstance(e, httpx.ConnectError):
        return EngineUnavailable(engine, f"cannot reach the speech server {url}: {describe(e)}",
                                 fix="start the server, or check url in [speech] / --speech-url")
    if isinstance(e, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return EngineBusy(engine, f"{url}: the connection dropped ({describe(e)})")
    return EngineError(engine, f"{url}: {describe(e)}")


def _status_error(engine: str, r, endpoint: str, voice: str, model: str) -> EngineError:
    status = r.status_code
    if status in (401, 403):
        return _auth_error(engine, status)
    if status in (429, 503):
        return EngineBusy(engine, f"the speech server answered {status}", retry_after=retry_after(r.headers))
    if status >= 500:
        return EngineBusy(engine, f"the speech server answered {status}: {_server_message(r)}")
    if status == 404:
        return EngineError(engine, f"{endpoint} answered 404: {_server_message(r)}",
                           fix="give the server's base URL (the part before /v1/audio/speech)")
    return EngineError(engine, f"the speech server answered {status}: {_server_message(r)}",
                       fix=f"check that the server has model {model!r} and voice {voice!r}, and accepts wav")


def _server_message(r) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the start of the body."""
    try:
        data = r.json()
        message = data["error"]["message"] if isinstance(data.get("error"), dict) else data.get("detail") or data["error"]
        return str(message)[:200]
    except (ValueError, KeyError, TypeError, AttributeError):
        return r.text[:200].strip() or "no detail"


def retry_after(headers, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), None when absent or unreadable."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


# ---------------------------------------------------------------- WAV
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def decode_wav(engine: str, data: bytes) -> tuple[bytes, int]:
    """WAV bytes → (16-bit mono PCM, sample rate); integer 16/24/32-bit or float 32-bit, any channels."""
    import numpy as np

    if not data:
        raise EngineError(engine, "the speech server sent no audio")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        head = data[:60].decode("utf-8", "replace")
        raise EngineError(engine, f"the speech server did not send WAV audio ({head!r}…)",
                          fix="use a server that supports response_format \"wav\"")
    fmt, payload = _chunks(engine, io.BytesIO(data[12:]))
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    width = bits // 8
    if channels < 1 or rate < 1 or (tag, width) not in ((_PCM, 2), (_PCM, 3), (_PCM, 4), (_FLOAT, 4)):
        raise EngineError(engine, f"unsupported WAV audio (format {tag}, {bits}-bit, {channels} channels)",
                          fix="ask the server for 16-bit PCM WAV")
    payload = payload[:len(payload) - len(payload) % (width * channels)]
    if tag == _FLOAT:
        samples = np.clip(np.frombuffer(payload, "<f4") * 32767.0, -32768, 32767)
    elif width == 3:
        raw = np.frombuffer(payload, np.uint8).reshape(-1, 3).astype(np.int32)
        samples = ((raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)) << 8 >> 16).astype(np.float64)
    else:
        samples = np.frombuffer(payload, "<i2" if width == 2 else "<i4").astype(np.float64)
        if width == 4:
            samples = samples / 65536.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return np.round(samples).astype("<i2").tobytes(), int(rate)


def _chunks(engine: str, f: io.BytesIO) -> tuple[bytes, bytes]:
    """The ``fmt `` chunk and the ``data`` payload (to the end when the size is 0 or too big)."""
    fmt = None
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise EngineError(engine, "the WAV audio has no data" if fmt else "the WAV audio has no format chunk")
        cid, size = head[:4], struct.unpack("<I", head[4:])[0]
        if cid == b"data":
            if fmt is None:
                raise EngineError(engine, "the WAV audio has no format chunk before its data")
            rest = f.read()
            return fmt, rest if size in (0, 0xFFFFFFFF) or size > len(rest) else rest[:size]
        body = f.read(size + (size & 1))
        if cid == b"fmt ":
            if len(body) < 16:
                raise EngineError(engine, "the WAV format chunk is too short")
            fmt = body


__all__ = ["RemoteEngine", "API_KEY_ENV", "decode_wav", "make_limiter", "retry_after"]

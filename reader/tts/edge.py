"""edge-tts: Microsoft's neural voices through Edge's read-aloud websocket service (online).

Voices: ``vi-VN-HoaiMyNeural`` (default, female) and ``vi-VN-NamMinhNeural`` (male). Rate maps
to edge's percentage (1.25 → ``+25%``); pitch is an offset in Hz (``-20`` → ``-20Hz``; None =
unchanged). The service answers MP3 (24 kHz mono), decoded with soundfile like gTTS.
Every call has a connect timeout, a receive timeout and an overall timeout. Errors are
translated here: a refused handshake with 429/5xx, a dropped connection or a turn that ends
without audio become ``EngineBusy`` (retried by ``render``), timeouts ``EngineTimeout``, an
unreachable host ``EngineUnavailable``.
"""
from __future__ import annotations

import asyncio
import io
import math

from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable, UnknownVoice
from reader.models import Clip
from reader.tts.base import check_rate, check_text
from reader.tts.gtts import _mp3_decoder_problem, decode_mp3

VOICES = ("vi-VN-HoaiMyNeural", "vi-VN-NamMinhNeural")


class EdgeEngine:
    """Microsoft Edge neural TTS through the edge-tts package."""

    name = "edge"
    online = True  #: needs the internet; `check()` makes no network call
    default_voice = VOICES[0]
    max_chars = 1000  # edge-tts itself splits at 4096 bytes of SSML; stay well under
    sample_rate = 24000
    concurrency = 4
    max_rate = 10.0

    def __init__(self, voice: str | None = None, *, timeout: float = 30.0, **_options) -> None:
        self.default_voice = voice or self.default_voice
        self.timeout = timeout

    @property
    def version(self) -> str:
        try:
            import edge_tts
        except ImportError:
            return "missing"
        return edge_tts.__version__

    def check(self) -> str | None:
        try:
            import edge_tts  # noqa: F401
        except ImportError:
            return "the edge-tts package is not installed (pip install 'vnreader[edge]'); it also needs the internet"
        return _mp3_decoder_problem()

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        check_text(self.name, text, self.max_chars)
        rate = check_rate(self.name, rate)
        voice = voice or self.default_voice
        try:
            import edge_tts
        except ImportError as e:
            raise EngineUnavailable(self.name, "the edge-tts package is not installed", fix="pip install 'vnreader[edge]'") from e
        seconds = max(1, math.ceil(self.timeout))
        try:
            communicate = edge_tts.Communicate(text, voice, rate=f"{round((rate - 1) * 100):+d}%",
                                               pitch=f"{round(pitch or 0):+d}Hz",
                                               connect_timeout=seconds, receive_timeout=seconds)
        except ValueError as e:
            raise UnknownVoice(self.name, f"voice {voice!r}: {e}",
                                    fix="use " + " or ".join(VOICES)) from e
        try:
            mp3 = _run(_collect(communicate), self.timeout)
        except EngineError:
            raise
        except Exception as e:  # noqa: BLE001 - translated below, re-raised if unknown
            raise _translate(self.name, e) from e
        pcm, sample_rate = decode_mp3(self.name, mp3)
        return Clip(pcm=pcm, sample_rate=sample_rate, engine=self.name, voice=voice)


async def _collect(communicate) -> bytes:
    out = io.BytesIO()
    async for chunk in communicate.stream():
        if chunk["type"] == "audio":
            out.write(chunk["data"])
    return out.getvalue()


def _run(coro, timeout: float):
    """Run ``coro`` to completion with an overall timeout, in this thread's own event loop."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def _translate(engine: str, e: Exception) -> EngineError:
    import aiohttp
    from edge_tts import exceptions as edge_errors

    from reader.neterrors import describe

    if isinstance(e, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return EngineTimeout(engine, f"no answer in time ({type(e).__name__})")
    if isinstance(e, aiohttp.ClientResponseError):
        if e.status == 429 or e.status >= 500:
            return EngineBusy(engine, f"the service answered {e.status}")
        return EngineError(engine, f"the service answered {e.status}: {e.message}",
                           fix="upgrade edge-tts (pip install -U edge-tts); the service may have changed")
    if isinstance(e, aiohttp.ClientConnectorError):
        return EngineUnavailable(engine, f"cannot reach the service: {describe(e)}",
                                 fix="check the internet connection, or use the offline espeak engine")
    if isinstance(e, (aiohttp.ClientError, edge_errors.WebSocketError, edge_errors.NoAudioReceived)):
        return EngineBusy(engine, f"no audio: the connection dropped or the voice is unknown ({describe(e)})")
    if isinstance(e, edge_errors.EdgeTTSException):
        return EngineError(engine, f"unexpected answer from the service: {e}")
    raise e

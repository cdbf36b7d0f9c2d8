"""gTTS: Google Translate's text-to-speech (online; the voice users asked for).

One request speaks at most 100 characters (``render`` chunks longer sentences), and the
answer is MP3, decoded here to PCM with ``soundfile`` (its wheels bundle libsndfile with
MP3 support; no ffmpeg). Every request carries a timeout. Errors are translated at this
seam: 429 and 5xx answers and dropped connections become ``EngineBusy`` (``render`` retries
them with backoff), timeouts ``EngineTimeout``, an unreachable host ``EngineUnavailable``.

Voice is the gTTS language code (``vi``). Rate: Google has a normal and a slow voice, so a
rate at or below 0.75 uses the slow one and any other rate speaks at normal speed. There is
no pitch control; ``pitch`` is ignored.
"""
from __future__ import annotations

import io

from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable, UnknownVoice
from reader.models import Clip
from reader.tts.base import check_rate, check_text

SLOW_RATE = 0.75


class GttsEngine:
    """Google Translate TTS through the gTTS package."""

    name = "gtts"
    online = True  #: needs the internet; `check()` makes no network call
    default_voice = "vi"
    max_chars = 100  # gTTS's GOOGLE_TTS_MAX_CHARS
    sample_rate = 24000
    concurrency = 5  #: requests in flight at once (render's default)
    max_rate = 25.0  #: request starts per second (render's default)

    def __init__(self, voice: str | None = None, *, timeout: float = 15.0, tld: str = "com", **_options) -> None:
        self.default_voice = voice or self.default_voice
        self.timeout = timeout
        self.tld = tld

    @property
    def version(self) -> str:
        try:
            import gtts
        except ImportError:
            return "missing"
        return gtts.__version__

    def check(self) -> str | None:
        try:
            import gtts  # noqa: F401
        except ImportError:
            return "the gTTS package is not installed (pip install gTTS); it also needs the internet"
        reason = _mp3_decoder_problem()
        if reason:
            return reason
        return None

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        check_text(self.name, text, self.max_chars)
        rate = check_rate(self.name, rate)
        voice = voice or self.default_voice
        try:
            import gtts
            import requests
        except ImportError as e:
            raise EngineUnavailable(self.name, "the gTTS package is not installed", fix="pip install gTTS") from e
        try:
            tts = gtts.gTTS(text, lang=voice, slow=rate <= SLOW_RATE, tld=self.tld, timeout=self.timeout)
        except ValueError as e:
            raise UnknownVoice(self.name, f"voice {voice!r}: {e}",
                                    fix="use a gTTS language code such as vi") from e
        buf = io.BytesIO()
        try:
            tts.write_to_fp(buf)
        except gtts.gTTSError as e:
            raise _translate(self.name, e, e.rsp, e.__context__) from e
        except requests.RequestException as e:  # dropped while reading the body
            raise _translate(self.name, e, None, e) from e
        except AssertionError as e:  # gTTS found nothing speakable (only punctuation)
            raise EngineError(self.name, f"nothing speakable in {text[:40]!r}") from e
        pcm, sample_rate = decode_mp3(self.name, buf.getvalue())
        return Clip(pcm=pcm, sample_rate=sample_rate, engine=self.name, voice=voice)


def _translate(engine: str, err: Exception, response, cause) -> EngineError:
    """Map a gTTS / requests failure to our error tree."""
    import requests

    from reader.neterrors import describe

    if response is not None:
        status = response.status_code
        if status == 429 or status >= 500:
            return EngineBusy(engine, f"the service answered {status}")
        return EngineError(engine, f"the service answered {status}: {err}",
                           fix="upgrade gTTS (pip install -U gTTS); Google may have changed its API")
    if isinstance(cause, requests.Timeout):
        return EngineTimeout(engine, "no answer in time")
    if isinstance(cause, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return EngineBusy(engine, f"the connection dropped: {describe(cause)}")
    if isinstance(cause, requests.ConnectionError):
        text = str(cause)
        if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text.lower():
            return EngineBusy(engine, f"the connection dropped: {describe(cause)}")
        return EngineUnavailable(engine, f"cannot reach the service: {describe(cause)}",
                                 fix="check the internet connection, or use the offline espeak engine")
    return EngineError(engine, str(err) or type(err).__name__)


def _mp3_decoder_problem() -> str | None:
    try:
        import soundfile
    except (ImportError, OSError) as e:
        return f"cannot decode MP3: soundfile is missing or broken ({e}); pip install soundfile"
    if "MP3" not in soundfile.available_formats():
        return (f"cannot decode MP3: libsndfile {soundfile.__libsndfile_version__} has no MP3 support; "
                "pip install -U soundfile")
    return None


def decode_mp3(engine: str, data: bytes) -> tuple[bytes, int]:
    """MP3 bytes → (16-bit mono PCM, sample rate), without ffmpeg."""
    import numpy as np
    import soundfile

    if not data:
        raise EngineError(engine, "the service sent no audio")
    try:
        samples, sample_rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as e:
        raise EngineError(engine, f"the audio could not be decoded: {e}") from e
    if samples.shape[1] > 1:
        samples = samples.mean(axis=1).astype(np.int16)
    else:
        samples = samples[:, 0]
    return samples.astype("<i2").tobytes(), int(sample_rate)

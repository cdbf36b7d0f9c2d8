"""espeak-ng through the ``espeakng-loader`` wheel (bundled library and voice data), via ctypes.

The library keeps global state and is not thread-safe, so this module holds one
process-wide :class:`_Runtime`: it is initialised once (``espeak_Initialize`` with a bad
data path calls ``exit()``, so we use the ``espeak_ng_*`` calls, which return status codes,
and check the data folder first), keeps its synth callback referenced for the life of the
process, and serialises every library call behind one lock. The callback appends each
buffer of samples to a ``bytearray`` in one C-level copy; there is no per-sample Python.
"""
from __future__ import annotations

import ctypes
import threading
from pathlib import Path

from reader.errors import EngineError, EngineUnavailable
from reader.models import Clip
from reader.tts.base import check_rate, check_text

# espeak_ng_OUTPUT_MODE, espeak_PARAMETER, espeak_POSITION_TYPE and flags (speak_lib.h, espeak_ng.h)
_OUTPUT_SYNCHRONOUS = 0x0001
_PARAM_RATE = 1
_PARAM_PITCH = 3
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_STATUS_OK = 0
_BUFFER_MS = 1000  # one callback per second of speech

#: words per minute at rate 1.0, and espeak-ng's accepted range
BASE_WPM = 175
MIN_WPM, MAX_WPM = 80, 450

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)


class _Runtime:
    """The loaded, initialised library: one per process, every call under ``lock``."""

    def __init__(self) -> None:
        import espeakng_loader

        data = Path(espeakng_loader.get_data_path())
        if not (data / "phontab").is_file():
            raise EngineUnavailable("espeak", f"espeak-ng data missing at {data}",
                                    fix="reinstall it: pip install --force-reinstall espeakng-loader")
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as e:
            raise EngineUnavailable("espeak", f"cannot load the espeak-ng library: {e}",
                                    fix="reinstall it: pip install --force-reinstall espeakng-loader") from e
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_InitializePath.restype = None
        lib.espeak_ng_Initialize.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_InitializeOutput.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
        lib.espeak_ng_GetSampleRate.restype = ctypes.c_int
        lib.espeak_ng_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_Synthesize.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                             ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ng_GetStatusCodeMessage.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
        lib.espeak_ng_GetStatusCodeMessage.restype = None
        lib.espeak_ng_ClearErrorContext.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.espeak_ng_ClearErrorContext.restype = None
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        self.lib = lib
        self.lock = threading.Lock()
        self._out: bytearray | None = None
        self._callback = _SYNTH_CALLBACK(self._collect)  # referenced for the life of the process
        self._voice: str | None = None

        lib.espeak_ng_InitializePath(str(data).encode())
        context = ctypes.c_void_p()
        status = lib.espeak_ng_Initialize(ctypes.byref(context))
        lib.espeak_ng_ClearErrorContext(ctypes.byref(context))
        self._ok(status, "initialise")
        self._ok(lib.espeak_ng_InitializeOutput(_OUTPUT_SYNCHRONOUS, _BUFFER_MS, None), "set up output")
        lib.espeak_SetSynthCallback(self._callback)
        self.sample_rate = int(lib.espeak_ng_GetSampleRate())
        self.version = (lib.espeak_Info(None) or b"unknown").decode()

    def _collect(self, wav, numsamples, events) -> int:
        if wav and numsamples > 0 and self._out is not None:
            self._out += ctypes.string_at(wav, numsamples * 2)
        return 0

    def message(self, status: int) -> str:
        buf = ctypes.create_string_buffer(512)
        self.lib.espeak_ng_GetStatusCodeMessage(status, buf, len(buf))
        return buf.value.decode(errors="replace") or f"status {status:#x}"

    def _ok(self, status: int, what: str) -> None:
        if status != _STATUS_OK:
            raise EngineError("espeak", f"could not {what}: {self.message(status)}")

    def speak(self, text: str, voice: str, wpm: int, pitch: int) -> bytes:
        """Synthesize ``text``; the caller holds ``lock``."""
        lib = self.lib
        if voice != self._voice:
            status = lib.espeak_ng_SetVoiceByName(voice.encode())
            if status != _STATUS_OK:
                raise EngineUnavailable("espeak", f"voice {voice!r}: {self.message(status)}",
                                        fix="use vi (Vietnamese) or another espeak-ng voice name")
            self._voice = voice
        self._ok(lib.espeak_ng_SetParameter(_PARAM_RATE, wpm, 0), "set the rate")
        self._ok(lib.espeak_ng_SetParameter(_PARAM_PITCH, pitch, 0), "set the pitch")
        data = text.encode("utf-8") + b"\0"
        self._out = out = bytearray()
        try:
            self._ok(lib.espeak_ng_Synthesize(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None),
                     "synthesize")
            self._ok(lib.espeak_ng_Synchronize(), "finish synthesis")
        finally:
            self._out = None
        return bytes(out)


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def _runtime() -> _Runtime:
    """The process-wide runtime, initialised on first use (the library allows one per process)."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            try:
                _RUNTIME = _Runtime()
            except ImportError as e:
                raise EngineUnavailable("espeak", "the espeakng-loader package is not installed",
                                        fix="pip install espeakng-loader") from e
        return _RUNTIME


def rate_to_wpm(rate: float) -> int:
    """Speaking rate (1.0 = normal) to espeak-ng words per minute, clamped to its range."""
    return max(MIN_WPM, min(MAX_WPM, round(BASE_WPM * rate)))


def pitch_value(pitch: float | None) -> int:
    """espeak-ng pitch 0–99 (None = its default 50)."""
    if pitch is None:
        return 50
    if not 0 <= pitch <= 99:
        raise EngineError("espeak", f"pitch {pitch} is out of range", fix="give a pitch from 0 to 99 (50 = normal)")
    return int(round(pitch))


class EspeakEngine:
    """espeak-ng: offline, always there, robotic. The default engine."""

    name = "espeak"
    default_voice = "vi"
    max_chars = None

    def __init__(self, voice: str | None = None, **_options) -> None:
        self.default_voice = voice or self.default_voice

    @property
    def version(self) -> str:
        return _runtime().version

    @property
    def sample_rate(self) -> int:
        return _runtime().sample_rate

    def check(self) -> str | None:
        try:
            _runtime()
        except EngineError as e:
            return str(e)
        return None

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        check_text(self.name, text, self.max_chars)
        wpm = rate_to_wpm(check_rate(self.name, rate))
        voice = voice or self.default_voice
        rt = _runtime()
        with rt.lock:
            pcm = rt.speak(text, voice, wpm, pitch_value(pitch))
        if not pcm:
            raise EngineError(self.name, f"no audio for {text[:40]!r}")
        return Clip(pcm=pcm, sample_rate=rt.sample_rate, engine=self.name, voice=voice)

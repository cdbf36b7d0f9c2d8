"""Piper: offline neural voices from an ONNX voice file (e.g. ``vi_VN-vais1000-medium.onnx``).

The voice is a path: ``--voice PATH.onnx`` (or ``get_engine("piper", voice=PATH)``), else the
``VNREADER_PIPER_VOICE`` environment variable. Piper needs the voice's config
``PATH.onnx.json`` beside it. Nothing is downloaded: the user supplies the voice files.
Rate maps to Piper's ``length_scale`` (1 / rate); Piper has no pitch control, so ``pitch``
is ignored. Loaded voices are kept per engine object, so a render loads the model once.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from reader.errors import EngineError, EngineUnavailable, UnknownVoice
from reader.models import Clip
from reader.tts.base import check_rate, check_text

VOICE_ENV = "VNREADER_PIPER_VOICE"
_FIX = f"give --voice PATH.onnx or set {VOICE_ENV}, with PATH.onnx.json beside it (e.g. vi_VN-vais1000-medium)"


class PiperEngine:
    """Piper neural TTS through the piper-tts package (onnxruntime, CPU)."""

    name = "piper"
    max_chars = None
    concurrency = 1

    def __init__(self, voice: str | None = None, **_options) -> None:
        self.default_voice = str(voice or os.environ.get(VOICE_ENV) or "")
        self._voices: dict[str, object] = {}
        self._lock = threading.Lock()
        self._warned_rate = False  #: the unreadable voice config was logged (once per engine)

    @property
    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("piper-tts")
        except PackageNotFoundError:
            return "missing"

    @property
    def sample_rate(self) -> int:
        try:
            config = json.loads(Path(f"{self.default_voice}.json").read_text(encoding="utf-8"))
            return int(config["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            if self.default_voice and not self._warned_rate:
                self._warned_rate = True
                logging.getLogger(__name__).warning("piper voice config %s.json unreadable, 22050 Hz assumed: %s: %s",
                                                    self.default_voice, type(e).__name__, e)
            return 22050

    def check(self) -> str | None:
        try:
            import piper  # noqa: F401
        except ImportError:
            return "the piper-tts package is not installed (pip install 'vnreader[piper]')"
        return _voice_problem(self.default_voice)

    def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0,
                   pitch: float | None = None) -> Clip:
        check_text(self.name, text, self.max_chars)
        rate = check_rate(self.name, rate)
        path = str(voice or self.default_voice)
        model = self._load(path)
        from piper.config import SynthesisConfig

        try:
            chunks = list(model.synthesize(text, syn_config=SynthesisConfig(length_scale=1.0 / rate)))
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own unrelated classes
            raise EngineError(self.name, f"{Path(path).name}: synthesis failed: {e}") from e
        if not chunks:
            raise EngineError(self.name, f"nothing speakable in {text[:40]!r}")
        return Clip(pcm=b"".join(c.audio_int16_bytes for c in chunks), sample_rate=chunks[0].sample_rate,
                    engine=self.name, voice=Path(path).name.removesuffix(".onnx"))

    def _load(self, path: str):
        with self._lock:
            if path in self._voices:
                return self._voices[path]
            problem = _voice_problem(path)
            if problem:
                raise UnknownVoice(self.name, problem)
            try:
                from piper import PiperVoice
            except ImportError as e:
                raise EngineUnavailable(self.name, "the piper-tts package is not installed",
                                        fix="pip install 'vnreader[piper]'") from e
            try:
                model = PiperVoice.load(path)
            except (ValueError, KeyError, TypeError) as e:
                raise EngineUnavailable(self.name, f"{path}.json is not a Piper voice config: {e!r}",
                                        fix="use the .onnx.json that came with the voice") from e
            except Exception as e:  # noqa: BLE001 - onnxruntime's load errors
                raise EngineUnavailable(self.name, f"{path} is not a loadable ONNX voice: {e}",
                                        fix="download the voice again") from e
            self._voices[path] = model
            return model


def _voice_problem(path: str) -> str | None:
    """Why the voice at ``path`` cannot be used, or None."""
    if not path:
        return f"no voice file configured ({_FIX})"
    if not Path(path).is_file():
        return f"voice file {path} not found ({_FIX})"
    if not Path(f"{path}.json").is_file():
        return f"voice config {path}.json not found (put the voice's .onnx.json beside {Path(path).name})"
    return None

"""Speech engines: text in, 16-bit mono PCM clips out.

``ENGINES`` is the explicit, ordered registry: ``espeak`` first (the offline default), then
the online ``gtts`` and ``edge``, then ``piper`` (offline, with a voice file), then ``remote``
(an OpenAI-compatible speech server of your own, configured by ``[speech]``). Each engine
module imports its library lazily, so the registry always loads and ``vnreader engines``
can say what is missing. To add an engine, write a class with the attributes and methods of
:class:`reader.tts.base.Engine` in its own module and add one line here.
"""
from __future__ import annotations

from reader.errors import UsageError
from reader.tts.base import Engine
from reader.tts.edge import EdgeEngine
from reader.tts.espeak import EspeakEngine
from reader.tts.gtts import GttsEngine
from reader.tts.piper import PiperEngine
from reader.tts.remote import RemoteEngine

ENGINES: dict[str, type] = {
    "espeak": EspeakEngine,
    "gtts": GttsEngine,
    "edge": EdgeEngine,
    "piper": PiperEngine,
    "remote": RemoteEngine,
}

DEFAULT_ENGINE = "espeak"


def get_engine(name: str | None = None, *, speech=None, limiter=None, **options) -> Engine:
    """The engine registered as ``name`` (None = espeak), built with ``options`` (voice=, timeout=, …).

    ``speech`` (a ``reader.config.SpeechSettings``) and ``limiter`` (its shared rate limit) go
    to the ``remote`` engine only; ``pipeline.RenderOptions.make_engine`` passes them.
    """
    name = DEFAULT_ENGINE if name is None else name.strip().lower()
    if name == "remote":
        options.update(speech=speech, limiter=limiter)
    try:
        factory = ENGINES[name]
    except KeyError:
        raise UsageError(name, "no such speech engine",
                         fix="choose one of " + ", ".join(ENGINES)) from None
    return factory(**options)


__all__ = ["ENGINES", "DEFAULT_ENGINE", "Engine", "get_engine"]

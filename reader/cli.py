"""Command line: thin commands over library calls.

Every command exits with one of these codes:

    0    done (also: nothing to do, output unchanged)
    1    some or all items failed at run time: fetch, extract, engine, audio, publish; the job
         queue's broker unreachable or lost (``run --queue``, ``worker``)
    2    usage or configuration error, found before any work: a bad option (--rate, --pitch,
         --base-url, --port, --max-bytes, --engine), a missing input file, an output path that
         cannot be written, an unknown voice, a wrong sources file
    3    another run holds the output folder's lock
    70   a bug in vnreader (an unexpected exception): one line and "please report this"; the
         traceback only with --verbose or VNREADER_DEBUG=1. A daily run whose failed items
         include a bug exits 70 too (the other items still finish)
    130  interrupted (SIGINT, Ctrl-C)
    141  standard output closed by its reader (`| head`): quiet, like other Unix tools
    143  terminated (SIGTERM)

A full standard output (``> /dev/full``) is 1 with "standard output: write failed (…)" on stderr.

Options are checked by argparse type functions, so a bad one is refused before anything is
fetched or written. Expected failures print one line naming the input and the fix, never a
traceback. Exit codes come from the error classes in ``reader/errors.py`` (``exit_code``).
"""
from __future__ import annotations

import argparse
import io
import json
import signal
import math
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from reader import __version__
from reader.errors import ReaderError, UsageError
from reader.fsutil import output_target

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


def _check_input(source: str | None) -> None:
    """A named local input must be an existing file (exit 2, before any work); URLs and - pass."""
    if source in (None, "-") or re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        return
    p = Path(source).expanduser()
    if not p.is_file():
        raise UsageError(source, "no such file" if not p.exists() else "not a file",
                         fix="give an existing file, or - for standard input")


def _read_input(path: str | None) -> str:
    _check_input(path)
    data = sys.stdin.buffer.read() if path in (None, "-") else Path(path).expanduser().read_bytes()
    from reader.fetch import refuse_binary

    refuse_binary(data, path or "stdin")
    return data.decode("utf-8-sig", errors="replace")


# ---------------------------------------------------------------- option types
# argparse calls these while parsing: a bad value exits 2 before anything runs.
def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def rate_type(text: str) -> float:
    from reader.tts.base import MAX_RATE, MIN_RATE

    value = _finite(text)
    if not MIN_RATE <= value <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"{text} is out of range: give {MIN_RATE}–{MAX_RATE} (1.0 = normal)")
    return value


#: --pitch ranges per engine (checked once the engine is known); engines not listed take any number.
PITCH_RANGES = {"espeak": (0.0, 99.0)}


def port_type(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is out of range: give 1–65535")
    return value


def base_url_type(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an absolute http(s) URL: give one like {DEFAULT_BASE_URL}")
    return text


def size_type(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is too small: give 1 or more bytes")
    return value


def out_dir_type(text: str) -> str:
    """An output folder: an existing writable folder, or one that can be made (its nearest existing parent is)."""
    path = Path(text).expanduser()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {probe} is not a folder: give a folder (it is made if missing)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text}: {probe} is not writable: give a folder you can write to")
    return text


def speech_url_type(text: str) -> str:
    """--speech-url: a server's base URL (http(s)), not its /v1/audio/speech endpoint."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an absolute http(s) URL: give one like http://gpu-box:8000")
    if text.rstrip("/").endswith("/audio/speech"):
        raise argparse.ArgumentTypeError(f"{text!r} is the endpoint: give the part before /v1/audio/speech")
    return text.rstrip("/")


def engine_type(text: str) -> str:
    from reader.tts import ENGINES

    name = text.strip().lower()
    if name not in ENGINES:
        raise argparse.ArgumentTypeError(f"no such speech engine {text!r}: choose one of {', '.join(ENGINES)}")
    return name


def _check_pitch(command: argparse.ArgumentParser, a: argparse.Namespace) -> None:
    """--pitch against the chosen engine's range (the one check that needs two options)."""
    pitch = getattr(a, "pitch", None)
    if pitch is None:
        return
    from reader.tts import DEFAULT_ENGINE

    engine = getattr(a, "engine", None) or DEFAULT_ENGINE
    low, high = PITCH_RANGES.get(engine, (-math.inf, math.inf))
    if not low <= pitch <= high:
        command.error(f"argument --pitch: {pitch:g} is out of range for {engine}: give {low:g}–{high:g}")


def _jsonl(text: str, what: str):
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            yield item.get("id"), str(item.get("text") or "")
        except (ValueError, AttributeError) as e:
            raise UsageError(f"{what} line {n}", "not a JSON object with \"id\" and \"text\"",
                             fix='give one {"id": ..., "text": ...} object per line') from e


def _limits(a):
    from reader.limits import Limits

    for name in ("max_chars", "max_sentences", "max_minutes"):
        if getattr(a, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')}", f"must be positive, not {getattr(a, name)}")
    return Limits(max_chars=a.max_chars, max_sentences=a.max_sentences, max_minutes=a.max_minutes)


def _options(a):
    """The command's ``pipeline.RenderOptions`` (its engine, voice, rate, pitch, captions, fallback, cache, limits)."""
    from reader.pipeline import render_options

    return render_options(engine=a.engine, voice=getattr(a, "voice", None), rate=getattr(a, "rate", 1.0),
                          pitch=getattr(a, "pitch", None), captions=getattr(a, "captions", False),
                          fallback=getattr(a, "fallback", None), limits=_limits(a), cache=not a.no_cache,
                          speech=_speech(a))


def _speech(a, base=None):
    """The remote engine's ``config.SpeechSettings``: ``base`` (a sources file's [speech]) with
    --speech-url/--speech-model/--speech-voice on top; None when neither says anything."""
    from dataclasses import replace

    from reader.config import SpeechSettings

    given = {key: value for key in ("url", "model", "voice")
             if (value := getattr(a, f"speech_{key}", None)) is not None}
    if base is None and not given:
        return None
    return replace(base or SpeechSettings(), **given)


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _stdout_stream(target: Path | None):
    """``-o -``: the audio goes to standard output (binary)."""
    return sys.stdout.buffer if target is None else None


def _report_stream(target: Path | None):
    """Where "wrote …" goes: stderr when stdout carries the audio."""
    return sys.stderr if target is None else sys.stdout


def _verb(ep) -> str:
    """ "unchanged" for an episode reused as it was (same render key), else "wrote"."""
    return "unchanged" if ep.reused else "wrote"


def _shown(output: str, target: Path | None) -> str:
    if target is None:
        return "standard output"
    return f"{output} -> {target}" if Path(output).expanduser().is_symlink() else output


# ---------------------------------------------------------------- commands
def cmd_extract(a) -> int:
    from reader.extract import extract
    from reader.fetch import load

    _check_input(a.source)
    article = load(a.source, max_bytes=a.max_bytes, deadline=a.timeout)
    if a.explain:
        from reader.extract.explain import explain, explain_lines

        x = explain(article)
        for line in explain_lines(x):
            print(line)
        if x.error is not None:
            raise x.error
        return 0
    doc = extract(article, captions=a.captions)
    if a.json:
        _emit({"url": doc.url, "title": doc.title, "lead": doc.lead, "paragraphs": list(doc.paragraphs),
               "author": doc.author, "published": doc.published.isoformat() if doc.published else None,
               "site": doc.site, "section": doc.section, "image": doc.image,
               "captions": [{"text": c.text, "after": c.after} for c in doc.captions]})
    else:
        for text in [doc.title, doc.lead, *doc.paragraphs]:
            if text:
                print(text)
    return 0


def cmd_sentences(a) -> int:
    from reader.text import split_sentences

    text = _read_input(a.file)
    if a.jsonl:
        for id_, t in _jsonl(text, a.file or "stdin"):
            _emit({"id": id_, "sentences": split_sentences(t)})
    else:
        for para in text.splitlines():
            for s in split_sentences(para):
                print(s)
    return 0


def cmd_normalize(a) -> int:
    from reader.text import normalize
    from reader.text.definitions import NO_DEFINITIONS

    text = _read_input(a.file)
    if a.jsonl:  # each record is a document of its own
        for id_, t in _jsonl(text, a.file or "stdin"):
            _emit({"id": id_, "spoken": normalize(t)})
    else:  # the whole input is one document: a definition holds for the lines after it
        defined = NO_DEFINITIONS
        for line in text.splitlines():
            print(normalize(line, defined=defined))
            defined = defined.learn(line)
    return 0


def _check_voice(a) -> None:
    """An engine that can list its voices (espeak) refuses an unknown --voice before any work."""
    if a.voice is None:
        return
    from reader.tts import get_engine

    engine = get_engine(a.engine)
    if hasattr(engine, "check_voice"):
        engine.check_voice(a.voice)


def cmd_speak(a) -> int:
    from reader import pipeline

    if a.text is not None and a.file is not None:
        raise UsageError("speak", "give TEXT or --file, not both")
    _check_input(a.file)
    _check_voice(a)
    target = output_target(a.output, (a.file,))
    text = a.text if a.text is not None else _read_input(a.file or "-")
    if not text.strip():
        raise UsageError(a.file or "TEXT", "nothing to say", fix="give some Vietnamese text")
    ep = pipeline.speak_text(text, target, _options(a), stream=_stdout_stream(target), subject="TEXT" if a.text is not None else "stdin" if a.file in (None, "-") else a.file)
    print(f"wrote {_shown(a.output, target)} ({ep.duration:.1f} s, {ep.size} bytes)", file=_report_stream(target))
    return 0


def cmd_read(a) -> int:
    from reader import pipeline

    if a.stdout or a.play:
        return _listen(a)
    if a.output is None:
        raise UsageError("read", "say where the audio goes", fix="give -o OUT.mp3, --stdout or --play")
    _check_input(a.source)
    _check_voice(a)
    target = output_target(a.output, (a.source,))
    ep = pipeline.read_source(a.source, target, _options(a), stream=_stdout_stream(target), max_bytes=a.max_bytes,
                              timeout=a.timeout)
    print(f"{_verb(ep)} {_shown(a.output, target)} ({ep.duration:.1f} s, {ep.size} bytes): {ep.title}",
          file=_report_stream(target))
    return 0


def _listen(a) -> int:
    """read --stdout / --play: stream the article as it is spoken."""
    import time

    from reader import pipeline
    from reader.stream import find_player

    started = time.perf_counter()
    _check_input(a.source)
    if sum(bool(x) for x in (a.stdout, a.play, a.output is not None)) > 1:
        raise UsageError("read", "give one of -o FILE, --stdout and --play")
    player = find_player(a.format or "mp3") if a.play else None
    if a.stdout:
        if sys.stdout.isatty():
            raise UsageError("--stdout", "standard output is a terminal, not an audio player",
                             fix="pipe it to a player: vnreader read SOURCE --stdout | mpv -   (or use --play)")
    doc, report = pipeline.listen(a.source, _options(a), out=None if player else sys.stdout.buffer, player=player,
                                  fmt=player.fmt if player else (a.format or "mp3"), started=started,
                                  max_bytes=a.max_bytes, timeout=a.timeout)
    how = f"played through {player.name}" if player else "streamed"
    print(f"{how} {report.sentences} sentences ({report.seconds:.1f} s): {doc.title}", file=sys.stderr)
    return 0


def cmd_demo(a) -> int:
    from reader import pipeline

    out = Path(a.out)
    before = {name: _stamp(out / name) for name in ("feed.xml", "index.html")}
    report = pipeline.demo(out, _options(a), base_url=a.base_url)
    for ep in report.episodes:
        print(f"{_verb(ep)} {ep.path} ({ep.duration:.1f} s): {ep.title}")
    for item, err in report.failures:
        print(f"failed {item}: {err}", file=sys.stderr)
    for path, note in ((report.feed, ""), (report.page, " (listening page)")):
        if path:
            same = before.get(path.name) is not None and before.get(path.name) == _stamp(path)
            print(f"{'unchanged' if same else 'wrote'} {path}{note}")
    return 1 if report.failures else 0


def _stamp(path: Path) -> tuple[int, int] | None:
    """(inode, mtime) of a file, to tell afterwards whether it was rewritten (atomic writes change the inode)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def cmd_engines(a) -> int:
    """Each engine and whether it can run here; the remote engine's server is asked (``probe``)."""
    from reader.tts import ENGINES, get_engine
    from reader.tts.remote import RemoteEngine

    if a.voices:
        from reader.tts.espeak import EspeakEngine

        for name, lang, ident in sorted(EspeakEngine().voices(), key=lambda v: (not v[1].startswith("vi"), v[1])):
            print(f"{ident.rsplit('/', 1)[-1]:20s} {lang:16s} {name}")
        return 0
    speech = _speech(a, _config_speech(a.config))
    for name, factory in ENGINES.items():
        engine = None
        try:
            engine = get_engine(name, speech=speech)
            why = engine.check()
            if why is None and isinstance(engine, RemoteEngine):  # the one engine with a server to ask
                why = engine.probe()
                if why is None:
                    print(f"{name:8s} available: {engine.settings.url} answers (model {engine.settings.model}, "
                          f"voice {engine.default_voice})")
                    continue
        except ReaderError as e:
            why = str(e)
        if why is not None:
            print(f"{name:8s} unavailable: {why}")
        elif getattr(factory, "online", False):
            print(f"{name:8s} installed, needs the internet (not checked)")
        else:
            print(f"{name:8s} available")
    return 0


def _config_speech(path: str | None):
    """The [speech] table of the sources file given with --config (None without one)."""
    if path is None:
        return None
    from reader.config import load_sources

    return load_sources(path).speech


def cmd_run(a) -> int:
    """``vnreader run``: exit 0 all done, 1 some items failed, 2 configuration, 3 locked."""
    from reader.daily import run_from_args

    report = run_from_args(a)
    lines = run_summary(report)
    if report.failed:
        for line in lines:
            print(line, file=sys.stderr)
    elif report.changed or not a.quiet:
        print(lines[0] if a.quiet else "\n".join(lines))
    return run_exit_code(report)


def cmd_publish(a) -> int:
    """``vnreader publish OUT_DIR TARGET``: media, records, page, then feed.xml; expired objects last."""
    from reader.publish import publish

    report = publish(a.out_dir, a.target)
    if not a.quiet or report.uploaded or report.deleted:
        print(report.summary())
    return 0


def cmd_worker(a) -> int:
    """``vnreader worker``: exit 0 after a warm shutdown (SIGTERM), 1 when the broker is unreachable."""
    from reader.config import load_sources
    from reader.queue import QueueSettings, run_worker

    config = load_sources(a.config) if a.config else None
    url = a.queue or (config.queue_url if config else None)
    if not url:
        raise UsageError("--queue", "no broker to take jobs from",
                         fix="give --queue redis://HOST:6379/0, or [queue] url in the sources file and --config FILE")
    concurrency = a.concurrency or (config.queue_concurrency if config else 1)
    return run_worker(QueueSettings.from_env(url), concurrency=concurrency,
                      loglevel="DEBUG" if a.verbose else "INFO")


def run_exit_code(report) -> int:
    """A daily run's exit code: 70 when a failed item was a bug, 1 when some items failed, else 0."""
    if any(not err.expected for _, err in report.failed):
        return EX_SOFTWARE
    return 1 if report.failed else 0


def run_summary(report) -> list[str]:
    """The end-of-run summary: one count line, then one line per skipped reason, the warnings
    (what was lost without failing an item), then one line per failure."""
    line = (f"new {len(report.new)}, skipped {len(report.skipped)}, failed {len(report.failed)}, "
            f"removed {len(report.removed)}")
    fallbacks: dict[str, int] = {}
    for ep in report.new:
        if getattr(ep, "fell_back_from", None):
            fallbacks[ep.engine] = fallbacks.get(ep.engine, 0) + 1
    line += "".join(f", {n} fell back to {engine}" for engine, n in sorted(fallbacks.items()))
    if report.feed is not None:
        state = ("kept (every source failed)" if getattr(report, "feed_kept", False)
                 else "updated" if report.feed_changed else "unchanged")
        line += f"; feed {state}: {report.feed}"
    out = [line]
    reasons: dict[str, int] = {}
    for _, reason in report.skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    out += [f"  skipped {n}: {reason}" for reason, n in sorted(reasons.items())]
    warnings = getattr(report, "warnings", [])
    if warnings:
        out.append(f"  {len(warnings)} warning{'s' if len(warnings) > 1 else ''}: " + "; ".join(warnings))
    out += [f"  {what} ({n} page{'s' if n > 1 else ''})"
            for what, n in sorted(getattr(report, "profile_drift", {}).items())]
    published = getattr(report, "published", None)
    if published is not None:
        out.append(f"  {published.summary()}")
    out += [f"  failed {err}" if str(err).startswith(item) else f"  failed {item}: {err}" for item, err in report.failed]
    return out



def cmd_serve(a) -> int:
    from reader import pipeline
    from reader.config import SpeechSettings
    from reader.webread import ReadSettings
    from reader.web import serve

    reading = None
    if a.max_renders <= 0:
        raise UsageError("--max-renders", f"must be positive, not {a.max_renders}")
    if not a.no_form:
        reading = ReadSettings(out_dir=Path(a.dir), engine=a.engine or "espeak", voice=a.voice, rate=a.rate,
                               cache=None if a.no_cache else pipeline.default_cache(), limits=_limits(a),
                               max_bytes=a.max_bytes, deadline=a.timeout, allow_private_fetch=a.allow_private_fetch,
                               max_renders=a.max_renders, speech=_speech(a) or SpeechSettings())
    serve(Path(a.dir), host=a.host, port=a.port, token=a.token, allow_form=a.allow_form, reading=reading)
    return 0


# ---------------------------------------------------------------- parser
#: a parser or one of its argument groups (the helpers below add options to either)
_Options = argparse._ActionsContainer


class _Parser(argparse.ArgumentParser):
    """argparse, but a refused option is one line (like every other error) and exit 2."""

    commands: Mapping[str, argparse.ArgumentParser]  #: build_parser; name -> its parser, for checks after parsing

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _timeout_arg(p: _Options, default: float | None) -> None:
    shown = f"default {default:g}" if default is not None else "default from the config, else 30"
    p.add_argument("--timeout", type=_seconds, default=default, metavar="SECONDS",
                   help=f"give up on a URL that has not fully answered within this many seconds, "
                        f"retries included ({shown})")


def _engine_args(p: _Options) -> None:
    p.add_argument("--engine", type=engine_type, default=None, help="speech engine (see `vnreader engines`; default espeak)")
    p.add_argument("--voice", default=None, help="engine voice (a name, or a .onnx path for piper)")
    p.add_argument("--rate", type=rate_type, default=1.0, help="speaking rate, 1.0 = normal (0.5–3.0)")
    p.add_argument("--no-cache", action="store_true", help="synthesise every sentence, ignoring the clip cache")


def _speech_args(p: _Options) -> None:
    p.add_argument("--speech-url", type=speech_url_type, default=None, metavar="URL",
                   help="the remote engine's OpenAI-compatible server, e.g. http://gpu-box:8000 "
                        "(default: url in [speech] of the sources file); API key from $VNREADER_SPEECH_API_KEY")
    p.add_argument("--speech-model", default=None, metavar="MODEL", help="the remote engine's model (default tts-1)")
    p.add_argument("--speech-voice", default=None, metavar="VOICE",
                   help="the remote engine's voice when --voice gives none (default alloy)")


def _max_bytes_arg(p: _Options) -> None:
    from reader.fetch import MAX_BYTES

    p.add_argument("--max-bytes", type=size_type, default=MAX_BYTES, metavar="N",
                   help=f"refuse pages larger than N bytes (default {MAX_BYTES})")


def _limit_args(p: _Options) -> None:
    from reader.limits import DEFAULT_MAX_CHARS, DEFAULT_MAX_MINUTES, DEFAULT_MAX_SENTENCES

    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, metavar="N",
                   help=f"refuse an input longer than N characters (default {DEFAULT_MAX_CHARS:,})")
    p.add_argument("--max-sentences", type=int, default=DEFAULT_MAX_SENTENCES, metavar="N",
                   help=f"refuse an input of more than N sentences (default {DEFAULT_MAX_SENTENCES:,})")
    p.add_argument("--max-minutes", type=float, default=DEFAULT_MAX_MINUTES, metavar="M",
                   help=f"stop rendering past M minutes of speech (default {DEFAULT_MAX_MINUTES:g})")


def build_parser() -> _Parser:
    ap = _Parser(prog="vnreader", description="Vietnamese news in, podcast out.")
    ap.add_argument("--version", action="version", version=f"vnreader {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    ap.commands = sub.choices  # name -> its parser, for checks after parsing

    p = sub.add_parser("extract", help="print an article's clean text", description="Print an article's clean text.")
    p.add_argument("source", metavar="SOURCE", help="a URL, a saved page or text file, or - for standard input")
    p.add_argument("--json", action="store_true", help="print JSON with title, lead, paragraphs and metadata")
    p.add_argument("--captions", action="store_true", help="keep image captions (once, after their paragraph)")
    p.add_argument("--explain", action="store_true",
                   help="print which site profile was picked, how many nodes each of its selectors matched, "
                        "and whether its body selector, the generic path or trafilatura gave the text")
    _max_bytes_arg(p)
    _timeout_arg(p, 30.0)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("sentences", help="split text into sentences", description="Split text into sentences, one per line.")
    p.add_argument("file", nargs="?", metavar="FILE", help="text file, or - / nothing for standard input")
    p.add_argument("--jsonl", action="store_true", help='read {"id","text"} lines, write {"id","sentences"} lines')
    p.set_defaults(func=cmd_sentences)

    p = sub.add_parser("normalize", help="print the spoken form of text",
                       description="Turn written forms (numbers, dates, abbreviations) into speakable words.")
    p.add_argument("file", nargs="?", metavar="FILE", help="text file, or - / nothing for standard input")
    p.add_argument("--jsonl", action="store_true", help='read {"id","text"} lines, write {"id","spoken"} lines')
    p.set_defaults(func=cmd_normalize)

    p = sub.add_parser("speak", help="speak text into an MP3", description="Speak text into an MP3 file.")
    p.add_argument("text", nargs="?", metavar="TEXT", help="text to speak (or use --file)")
    p.add_argument("--file", default=None, metavar="F", help="read the text from F (- for standard input)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp3",
                   help="MP3 to write (a symlink is written through to its target); - = standard output, MP3 only")
    p.add_argument("--pitch", type=_finite, default=None, help="pitch, engine-specific (espeak 0–99)")
    _engine_args(p)
    _speech_args(p)
    _limit_args(p)
    p.set_defaults(func=cmd_speak)

    p = sub.add_parser("read", help="one article: into an MP3, or spoken now",
                       description="Read one article into one MP3 (-o), or stream it as it is spoken "
                                   "(--stdout, --play).")
    p.add_argument("source", metavar="SOURCE", help="a URL, a saved page or text file, or - for standard input")
    p.add_argument("-o", "--output", default=None, metavar="OUT.mp3", help="write the whole episode to this MP3 (a symlink is written through to its target); "
                        "- = the whole tagged MP3 to standard output once rendered (--stdout streams instead)")
    p.add_argument("--stdout", action="store_true",
                   help="stream the audio to standard output as it is spoken (vnreader read URL --stdout | mpv -)")
    p.add_argument("--play", action="store_true",
                   help="play it now through mpv, ffplay, paplay, aplay or the sounddevice package")
    p.add_argument("--format", choices=("mp3", "wav"), default=None, help="stream format for --stdout (default mp3)")
    p.add_argument("--captions", action="store_true", help="read image captions once, after their paragraph")
    _max_bytes_arg(p)
    p.add_argument("--fallback", type=engine_type, default=None, metavar="ENGINE",
                   help="if the engine fails, render the whole article with this engine (default: fail)")
    _timeout_arg(p, 30.0)
    _engine_args(p)
    _speech_args(p)
    _limit_args(p)
    p.set_defaults(func=cmd_read)

    p = sub.add_parser("demo", help="render the bundled sample articles and a feed",
                       description="Render the bundled sample articles offline into episodes and feed.xml.")
    p.add_argument("--out", type=out_dir_type, default="audio_out", help="output folder (default audio_out)")
    p.add_argument("--base-url", type=base_url_type, default=DEFAULT_BASE_URL, help=f"public URL of the output folder (default {DEFAULT_BASE_URL})")
    p.add_argument("--engine", type=engine_type, default=None, help="speech engine (default espeak)")
    p.add_argument("--no-cache", action="store_true", help="synthesise every sentence, ignoring the clip cache")
    _limit_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("engines", help="list speech engines and whether they work here",
                       description="List speech engines, available or not here, and why.")
    p.add_argument("--voices", action="store_true", help="list the espeak-ng voices (Vietnamese first)")
    p.add_argument("--config", default=None, help="a sources file whose [speech] table the remote engine uses")
    _speech_args(p)
    p.set_defaults(func=cmd_engines)

    p = sub.add_parser("run", help="the daily run: feeds in, episodes and feed.xml out",
                       description="Fetch the configured feeds, render new articles, publish the feed.")
    p.add_argument("--config", default=None, help="sources file (default feeds/sources.toml)")
    p.add_argument("--out", type=out_dir_type, default=None, help="output folder (default from config, else audio_out)")
    p.add_argument("--state", default=None, metavar="PATH|URL",
                   help="state: a SQLite file (default OUT/.vnreader-state.sqlite) or postgresql://USER@HOST/DB, "
                        "shared by runs on several machines (extra vnreader[postgres])")
    p.add_argument("--base-url", type=base_url_type, default=None, help="public URL of the output folder")
    p.add_argument("--rerender", action="store_true", help="re-render articles whose text changed")
    p.add_argument("--publish", default=None, metavar="URL",
                   help="after the run, publish the folder to s3://bucket/prefix or a folder (default [storage] url)")
    p.add_argument("--quiet", action="store_true", help="only errors and the summary")
    p.add_argument("--verbose", action="store_true", help="more detail")
    p.add_argument("--log-json", action="store_true", help="structured JSON log lines")
    _timeout_arg(p, None)
    p.add_argument("--queue", metavar="URL", default=None,
                   help="render on `vnreader worker` processes through this broker (redis://HOST:6379/0; "
                        "default [queue] url; none: render here)")
    p.add_argument("--queue-timeout", type=_seconds, default=None, metavar="S",
                   help="seconds to wait for the workers' answers (default 3600); unanswered articles fail "
                        "and are retried next run")
    p.add_argument("--queue-transfer", choices=("folder", "storage"), default=None,
                   help="how workers hand back episodes: 'folder' (they write the output folder, shared) or "
                        "'storage' (through the .staging prefix of --publish / [storage] url; default [queue] "
                        "transfer, else folder)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("publish", help="upload an output folder to S3-compatible storage or a folder",
                       description="Publish OUT_DIR to TARGET: media, records, index.html, then feed.xml last; "
                       "then delete expired objects. Unchanged files are skipped. S3: endpoint from "
                       "VNREADER_S3_ENDPOINT or AWS_ENDPOINT_URL, credentials from AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY (needs the extra vnreader[s3]).")
    p.add_argument("out_dir", metavar="OUT_DIR", help="the output folder of `vnreader run` (with feed.xml)")
    p.add_argument("target", metavar="TARGET", help="s3://bucket/prefix, or a folder")
    p.add_argument("--quiet", action="store_true", help="print only when something was uploaded or deleted")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("worker", help="render jobs that `vnreader run --queue` sends (needs vnreader[queue])",
                       description="Take render jobs from the queue until SIGTERM (running jobs finish first).")
    p.add_argument("--queue", metavar="URL", default=None,
                   help="the broker (redis://HOST:6379/0 or amqp://…; default [queue] url of --config)")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="jobs rendered at once, one process each (default [queue] concurrency, else 1)")
    p.add_argument("--config", default=None, help="sources file to read [queue] from")
    p.add_argument("--verbose", action="store_true", help="debug log lines")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("serve", help="serve the output folder over HTTP",
                       description="Serve the feed, episodes and transcripts over HTTP (127.0.0.1 by default).")
    p.add_argument("--dir", default="audio_out", help="folder to serve (default audio_out)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_type, default=8000, help="TCP port, 1–65535 (default 8000)")
    p.add_argument("--token", default=None, help="private feed: serve only under /TOKEN/")
    g = p.add_argument_group("reading form", "the listening page's form \"Đọc bài báo\" (POST /read): "
                             "on for a loopback --host only, unless --allow-form")
    g.add_argument("--allow-form", action="store_true",
                   help="turn the form on for a non-loopback --host (anyone who reaches the server can use it)")
    g.add_argument("--no-form", action="store_true", help="turn the form off")
    g.add_argument("--allow-private-fetch", action="store_true",
                   help="let the form fetch loopback, private and link-local addresses (refused by default)")
    g.add_argument("--max-renders", type=int, default=2, metavar="N",
                   help="articles read at once; more get 503 (default 2)")
    _engine_args(g)
    _speech_args(g)
    _max_bytes_arg(g)
    _limit_args(g)
    _timeout_arg(g, 30.0)
    p.set_defaults(func=cmd_serve)
    return ap


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (temp files removed, locks released), then exit 143."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def _stop_on_sigterm():
    """Install the SIGTERM handler; returns the one it replaced (None off the main thread)."""
    try:
        return signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (main() called from a test thread): leave it
        return None


def main(argv: list[str] | None = None) -> int:
    """Run one command; a full or closed standard output ends it cleanly (see the exit codes)."""
    real = sys.stdout
    sys.stdout = _GuardedStdout(real)
    try:
        try:
            code = _main(argv)
        finally:
            sys.stdout.flush()  # also after --help (SystemExit): lost output must not exit 0
    except StdoutFailed as failed:
        code = _stdout_failed(failed.error)
        _discard_stdout(real)
    finally:
        sys.stdout = real
    return code


#: Standard output closed by its reader: 128 + SIGPIPE, what a shell shows for tools killed by it.
EXIT_BROKEN_PIPE = 141


class StdoutFailed(BaseException):
    """Writing to standard output failed. A BaseException, like KeyboardInterrupt: it stops the
    command wherever it is (no ``except Exception`` swallows it, nor argparse's help printer)."""

    def __init__(self, error: OSError):
        super().__init__(error)
        self.error = error


class _GuardedStdout:
    """Standard output (text, or its ``.buffer``) whose write errors are told apart from others."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data):
        try:
            return self._stream.write(data)
        except OSError as e:
            raise StdoutFailed(e) from e

    def flush(self):
        try:
            return self._stream.flush()
        except OSError as e:
            raise StdoutFailed(e) from e

    @property
    def buffer(self):
        return _GuardedStdout(self._stream.buffer)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _stdout_failed(error: OSError) -> int:
    """A closed pipe (`| head`) ends quietly, like other Unix tools; anything else is said on stderr."""
    if isinstance(error, BrokenPipeError):
        return EXIT_BROKEN_PIPE
    reason = os.strerror(error.errno).lower() if error.errno else str(error)
    try:
        print(f"vnreader: standard output: write failed ({reason})", file=sys.stderr)
    except OSError:
        pass
    return 1


def _discard_stdout(stream) -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # no real stdout (tests capture it)
        pass


#: A bug in vnreader (sysexits.h EX_SOFTWARE).
EX_SOFTWARE = 70


def _debug(a) -> bool:
    """The traceback of a bug is wanted: ``--verbose`` (where a command has it) or ``VNREADER_DEBUG=1``."""
    return bool(getattr(a, "verbose", False)) or os.environ.get("VNREADER_DEBUG") == "1"


def _bug(a, e: Exception) -> int:
    """An unexpected exception (not a ReaderError, or one with ``expected`` False): one line and
    "please report this"; the traceback only when asked for (``_debug``)."""
    what = str(e) if isinstance(e, ReaderError) else f"unexpected {type(e).__name__}: {e}"
    if "please report this" not in what:
        what += " (a bug in vnreader: please report this)"
    print(f"vnreader {a.command}: internal error: {what}", file=sys.stderr)
    if _debug(a):
        traceback.print_exception(e, file=sys.stderr)
    else:
        print("vnreader: run again with VNREADER_DEBUG=1 (or --verbose) to see the traceback", file=sys.stderr)
    return EX_SOFTWARE


def _main(argv: list[str] | None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    if not getattr(a, "func", None):
        ap.print_help()
        return 2
    previous = _stop_on_sigterm()
    try:
        _check_pitch(ap.commands[a.command], a)
        return a.func(a)
    except ReaderError as e:
        if not e.expected:
            return _bug(a, e)
        print(f"vnreader {a.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("vnreader: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("vnreader: terminated", file=sys.stderr)
        return 143
    except Exception as e:  # a bug: said in one line, not as a traceback
        return _bug(a, e)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

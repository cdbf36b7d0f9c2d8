"""Command line: thin commands over library calls.

Exit codes: 0 all done, 1 some items failed (the rest done), 2 usage or configuration
error, 3 another run holds the lock. Expected failures print one line naming the input
and the fix, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reader import __version__
from reader.errors import ReaderError, UsageError

DEFAULT_BASE_URL = "http://127.0.0.1:8000/"


def _read_input(path: str | None) -> str:
    if path in (None, "-"):
        data = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if not p.is_file():
            raise UsageError(path, "no such file", fix="give a readable text file, or - for standard input")
        data = p.read_bytes()
    return data.decode("utf-8-sig", errors="replace")


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


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- commands
def cmd_extract(a) -> int:
    from reader.extract import extract
    from reader.fetch import load

    doc = extract(load(a.source, max_bytes=a.max_bytes, deadline=a.timeout), captions=a.captions)
    if a.json:
        _emit({"url": doc.url, "title": doc.title, "lead": doc.lead, "paragraphs": list(doc.paragraphs),
               "author": doc.author, "published": doc.published.isoformat() if doc.published else None,
               "site": doc.site, "section": doc.section, "image": doc.image,
               "captions": [{"text": c.text, "after": c.after} for c in doc.captions]})
    else:
        for line in [doc.title, doc.lead, *doc.paragraphs]:
            if line:
                print(line)
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

    text = _read_input(a.file)
    if a.jsonl:
        for id_, t in _jsonl(text, a.file or "stdin"):
            _emit({"id": id_, "spoken": normalize(t)})
    else:
        for line in text.splitlines():
            print(normalize(line))
    return 0


def cmd_speak(a) -> int:
    from reader import pipeline

    if a.text is not None and a.file is not None:
        raise UsageError("speak", "give TEXT or --file, not both")
    text = a.text if a.text is not None else _read_input(a.file or "-")
    if not text.strip():
        raise UsageError(a.file or "TEXT", "nothing to say", fix="give some Vietnamese text")
    ep = pipeline.speak_text(text, a.output, engine=a.engine, voice=a.voice, rate=a.rate, pitch=a.pitch,
                             cache=None if a.no_cache else pipeline.default_cache())
    print(f"wrote {ep.path} ({ep.duration:.1f} s, {ep.size} bytes)")
    return 0


def cmd_read(a) -> int:
    from reader import pipeline

    ep = pipeline.read_source(a.source, a.output, engine=a.engine, voice=a.voice, rate=a.rate,
                              captions=a.captions, cache=None if a.no_cache else pipeline.default_cache(),
                              fallback=a.fallback, timeout=a.timeout)
    print(f"wrote {ep.path} ({ep.duration:.1f} s, {ep.size} bytes): {ep.title}")
    return 0


def cmd_demo(a) -> int:
    from reader import pipeline

    report = pipeline.demo(Path(a.out), base_url=a.base_url, engine=a.engine,
                           cache=None if a.no_cache else pipeline.default_cache())
    for ep in report.episodes:
        print(f"wrote {ep.path} ({ep.duration:.1f} s): {ep.title}")
    for item, err in report.failures:
        print(f"failed {item}: {err}", file=sys.stderr)
    print(f"wrote {report.feed}")
    if report.page:
        print(f"wrote {report.page} (listening page)")
    return 1 if report.failures else 0


def cmd_engines(a) -> int:
    from reader.tts import ENGINES

    for name, factory in ENGINES.items():
        try:
            why = factory().check()
        except ReaderError as e:
            why = str(e)
        print(f"{name:8s} {'available' if why is None else 'unavailable'}" + ("" if why is None else f": {why}"))
    return 0


def cmd_run(a) -> int:
    from reader.daily import run_command

    return run_command(a)


def cmd_serve(a) -> int:
    from reader.web import serve

    serve(Path(a.dir), host=a.host, port=a.port, token=a.token)
    return 0


# ---------------------------------------------------------------- parser
def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


def _timeout_arg(p: argparse.ArgumentParser, default: float | None) -> None:
    shown = f"default {default:g}" if default is not None else "default from the config, else 30"
    p.add_argument("--timeout", type=_seconds, default=default, metavar="SECONDS",
                   help=f"give up on a URL that has not fully answered within this many seconds, "
                        f"retries included ({shown})")


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default=None, help="speech engine (see `vnreader engines`; default espeak)")
    p.add_argument("--voice", default=None, help="engine voice (a name, or a .onnx path for piper)")
    p.add_argument("--rate", type=float, default=1.0, help="speaking rate, 1.0 = normal (0.5–3.0)")
    p.add_argument("--no-cache", action="store_true", help="synthesise every sentence, ignoring the clip cache")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="vnreader", description="Vietnamese news in, podcast out.")
    ap.add_argument("--version", action="version", version=f"vnreader {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("extract", help="print an article's clean text", description="Print an article's clean text.")
    p.add_argument("source", metavar="SOURCE", help="a URL, a saved page or text file, or - for standard input")
    p.add_argument("--json", action="store_true", help="print JSON with title, lead, paragraphs and metadata")
    p.add_argument("--captions", action="store_true", help="keep image captions (once, after their paragraph)")
    p.add_argument("--max-bytes", type=int, default=10_000_000, help="refuse pages larger than this")
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
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp3")
    p.add_argument("--pitch", type=float, default=None, help="pitch, engine-specific (espeak 0–99)")
    _engine_args(p)
    p.set_defaults(func=cmd_speak)

    p = sub.add_parser("read", help="one article, one MP3", description="Read one article into one MP3.")
    p.add_argument("source", metavar="SOURCE", help="a URL, a saved page or text file, or - for standard input")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp3")
    p.add_argument("--captions", action="store_true", help="read image captions once, after their paragraph")
    p.add_argument("--fallback", default=None, metavar="ENGINE",
                   help="if the engine fails, render the whole article with this engine (default: fail)")
    _timeout_arg(p, 30.0)
    _engine_args(p)
    p.set_defaults(func=cmd_read)

    p = sub.add_parser("demo", help="render the bundled sample articles and a feed",
                       description="Render the bundled sample articles offline into episodes and feed.xml.")
    p.add_argument("--out", default="audio_out", help="output folder (default audio_out)")
    p.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"public URL of the output folder (default {DEFAULT_BASE_URL})")
    p.add_argument("--engine", default=None, help="speech engine (default espeak)")
    p.add_argument("--no-cache", action="store_true", help="synthesise every sentence, ignoring the clip cache")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("engines", help="list speech engines and whether they work here",
                       description="List speech engines, available or not here, and why.")
    p.set_defaults(func=cmd_engines)

    p = sub.add_parser("run", help="the daily run: feeds in, episodes and feed.xml out",
                       description="Fetch the configured feeds, render new articles, publish the feed.")
    p.add_argument("--config", default=None, help="sources file (default feeds/sources.toml)")
    p.add_argument("--out", default=None, help="output folder (default from config, else audio_out)")
    p.add_argument("--state", default=None, help="state database (default OUT/.vnreader-state.sqlite)")
    p.add_argument("--base-url", default=None, help="public URL of the output folder")
    p.add_argument("--rerender", action="store_true", help="re-render articles whose text changed")
    p.add_argument("--quiet", action="store_true", help="only errors and the summary")
    p.add_argument("--verbose", action="store_true", help="more detail")
    p.add_argument("--log-json", action="store_true", help="structured JSON log lines")
    _timeout_arg(p, None)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve", help="serve the output folder over HTTP",
                       description="Serve the feed, episodes and transcripts over HTTP (127.0.0.1 by default).")
    p.add_argument("--dir", default="audio_out", help="folder to serve (default audio_out)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", default=None, help="private feed: serve only under /TOKEN/")
    p.set_defaults(func=cmd_serve)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    if not getattr(a, "func", None):
        ap.print_help()
        return 2
    try:
        return a.func(a)
    except ReaderError as e:
        print(f"vnreader {a.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("vnreader: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

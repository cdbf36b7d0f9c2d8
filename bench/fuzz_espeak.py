"""Find what crashes espeak-ng: generated sentences, each spoken by the worker process.

    python bench/fuzz_espeak.py [--cases 2000] [--seed 1] [--raw]

Sentences mix Vietnamese words with punctuation, quotes, brackets, dashes, backticks and
control characters. Each goes to the espeak worker (reader/tts/espeak.py), which runs the
library in its own process, so a crash costs one case and the fuzzer carries on. With
``--raw`` the text reaches the library as generated (to find new crashers); without it the
text goes through ``clean_text`` first, as the engine sends it (to check the cleaning).
Prints each crasher and a count; exits 1 when any case crashed.
"""
from __future__ import annotations

import argparse
import random
import sys

WORDS = ["Dạ", "cháu", "chào", "bác", "Bộ", "Y", "tế", "cho", "biết", "Trời", "đẹp", "ông", "nói", "TP", "HCM",
         "năm", "2025", "9.1", "10%", "24.500", "người", "Việt", "Nam", "a", "x", "ở", "được", "ạ"]
MARKS = list(".,;:!?…") + list("\"'“”‘’«»„()[]{}<>") + list("-‐‑‒–—―−") + list("`´^~*#@&/\\|_=+") + \
    [chr(c) for c in range(0, 32)] + ["\x7f", "\x85", "\xa0", "\u00ad", "\u200b", "\ufeff", "\u0300", "\u0323"]


def case(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.45:
            parts.append(rng.choice(WORDS))
        elif r < 0.9:
            parts.append("".join(rng.choice(MARKS) for _ in range(rng.randint(1, 3))))
        else:
            parts.append(" ")
        if rng.random() < 0.5:
            parts.append(" ")
    return "".join(parts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--raw", action="store_true", help="send the text uncleaned (find crashers)")
    a = ap.parse_args(argv)

    from reader.errors import EngineError
    from reader.tts.espeak import _WORKER, clean_text

    rng = random.Random(a.seed)
    crashed = []
    for n in range(a.cases):
        text = case(rng)
        said = text if a.raw else clean_text(text)
        if not said.strip():
            continue
        before = _WORKER.crashes
        try:
            with _WORKER.lock:
                _WORKER.speak(said, "vi", 175, 50)
        except EngineError:
            pass
        if _WORKER.crashes != before:
            crashed.append(text)
            print(f"crash {len(crashed)} (case {n}): {text!r}", flush=True)
    print(f"{len(crashed)} of {a.cases} cases crashed the library ({'raw' if a.raw else 'cleaned'} text, seed {a.seed})")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Episodes → ``index.html``: a listening page that works well with screen readers.

One static, self-contained page (inline CSS, a small inline script, no external
resources) in Vietnamese. It works opened from disk (``file://``) and from
``vnreader serve`` (which answers ``/`` with it), because every link on it (episode
files, transcripts, the feed) is relative to the page's own folder: ``NAME.mp3``, never
``audio_out/NAME.mp3``, whether ``--out`` is relative or absolute. The feed's public address
is shown as text, for podcast apps.

What it offers, per episode (newest first, each under an ``h2``): date, duration and
source; a native ``<audio controls preload="none">`` (never autoplayed) with a
``<track kind="captions">`` for the WebVTT file; links to the MP3, the transcripts and
the article; the transcript as a list of sentence buttons that seek the audio (the
sentence being heard is highlighted and marked ``aria-current``; each carries its
``data-paragraph`` from the cue); "previous / next paragraph / sentence" buttons, named with
the article's title like the player itself. One labelled speed ``<select>`` (0.75× to 3×)
applies to every player and is remembered in ``localStorage``.

Single-key shortcuts (J/K sentences, Shift+J/K paragraphs, < > speed) act only while focus is
inside an episode's ``<article>``, never in a form field or with a modifier held, and a
labelled checkbox ("Phím tắt một phím", remembered) turns them off (WCAG 2.1.4). Each
episode's position is remembered (``localStorage``, keyed by guid, else file name; saved every
few seconds of playback and on pause, seek and ``pagehide``; forgotten when it ends), and a
reload offers it back with a "Nghe tiếp từ 1:23" button beside the player (never autoplay).
While an episode plays, its current sentence is scrolled into view (``block: "nearest"``, focus
untouched, no smooth scrolling under ``prefers-reduced-motion``); in forced-colours mode it
gets a 3 px system-colour border, since the highlight's background is overridden there. A
polite live region speaks only after the listener's own actions (a step, a speed change, the
switch), never on the sentence changes of normal playback.

The page is **deterministic**: the same episodes give byte-identical HTML (nothing
reads the clock), and an unchanged page is not rewritten.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path, PurePosixPath
from typing import Sequence
from urllib.parse import quote, urlsplit

from reader.errors import PublishError
from reader.fsutil import atomic_write_bytes
from reader.models import Cue, Episode
from reader.podcast import clean_text

PAGE_NAME = "index.html"
#: The feed's file name beside the page; the page links to it relatively.
FEED_FILE = "feed.xml"
#: Playback speeds offered by the speed control: (rate, label). 1.0 is the default.
SPEEDS: tuple[tuple[float, str], ...] = (
    (0.75, "0,75×"),
    (1.0, "1× (bình thường)"),
    (1.25, "1,25×"),
    (1.5, "1,5×"),
    (1.75, "1,75×"),
    (2.0, "2×"),
    (2.5, "2,5×"),
    (3.0, "3×"),
)
DEFAULT_SPEED = 1.0
STORAGE_KEY = "vnreader.playbackRate"
#: localStorage key of the single-key shortcuts switch: "off" turns them off (on by default).
SHORTCUTS_KEY = "vnreader.shortcuts"
#: localStorage key prefix of an episode's resume position (+ the episode's guid, else its file name).
POSITION_KEY = "vnreader.position."
#: Seconds of playback between two saves of the position (it is also saved on pause, seek and pagehide).
SAVE_EVERY = 5
#: Keyboard shortcuts: (key as shown, what it does). The script handles exactly these keys.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("J", "câu trước"),
    ("K", "câu sau"),
    ("Shift+J", "đoạn trước"),
    ("Shift+K", "đoạn sau"),
    ("<", "đọc chậm hơn một nấc"),
    (">", "đọc nhanh hơn một nấc"),
)
#: Colours as (foreground, background) pairs per scheme; tests check each pair's WCAG contrast.
PALETTE: dict[str, dict[str, tuple[str, str]]] = {
    "light": {
        "text": ("#1b1b1b", "#ffffff"),
        "muted": ("#4a4a4a", "#ffffff"),
        "link": ("#0b4fa8", "#ffffff"),
        "current": ("#1b1b1b", "#ffe680"),
        "button": ("#1b1b1b", "#eef1f5"),
        "focus": ("#b3261e", "#ffffff"),
    },
    "dark": {
        "text": ("#f2f2f2", "#121212"),
        "muted": ("#c8c8c8", "#121212"),
        "link": ("#9cc3ff", "#121212"),
        "current": ("#ffffff", "#5c4a00"),
        "button": ("#f2f2f2", "#262a30"),
        "focus": ("#ffcc33", "#121212"),
    },
}


# ---------------------------------------------------------------- formatting
def format_duration(seconds: float) -> str:
    """Spoken-style Vietnamese duration: 45 giây, 3 phút 20 giây, 1 giờ 5 phút."""
    total = max(0, int(round(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} giờ {m} phút" if m else f"{h} giờ"
    if m:
        return f"{m} phút {s} giây" if s else f"{m} phút"
    return f"{s} giây"


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration for ``<time datetime>``: PT3M20S."""
    total = max(0, int(round(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{s}S"


def format_date(dt: datetime) -> str:
    """Vietnamese date and time in the episode's own time zone: 09/01/2021, 15:00."""
    return dt.strftime("%d/%m/%Y, %H:%M")


def _seconds(t: float) -> str:
    """A cue time as the script reads it: seconds with millisecond precision."""
    return f"{t:.3f}"


def _clock(t: float) -> str:
    total = max(0, int(t))
    m, s = divmod(total, 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _e(text: str | None) -> str:
    """Escaped text for element content and attribute values alike."""
    return escape(clean_text(text), quote=True)


def _local(p: Path, out_dir: Path) -> Path:
    """Where an episode's file is. Paths in records and episodes are as the process sees them
    (``audio_out/NAME.mp3`` for ``--out audio_out``); a bare name is taken inside ``out_dir``."""
    if p.is_absolute():
        return p
    inside = out_dir / p
    if inside.exists() or not p.exists():
        return inside
    return p


def _href(path: str | os.PathLike | None, out_dir: Path) -> str | None:
    """A link from the page to a file in the output folder, relative to the page's own folder
    (never carrying the output folder's name), percent-encoded."""
    if not path:
        return None
    p = _local(Path(path), out_dir)
    try:
        rel = p.resolve().relative_to(out_dir.resolve())
    except ValueError as e:
        raise PublishError(str(p), f"is not inside the output folder {out_dir}",
                           fix="write episodes and their sidecars into the folder the page is published from") from e
    return quote(PurePosixPath(*rel.parts).as_posix(), safe="/")


def _anchor(ep: Episode, taken: set[str]) -> str:
    """A stable, unique id for an episode from its MP3 file name."""
    base = "ep-" + (re.sub(r"[^a-z0-9]+", "-", Path(ep.path).stem.lower()).strip("-") or "bai")
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def _order(episodes: Sequence[Episode]) -> list[Episode]:
    """Newest first; undated episodes last; ties by guid (deterministic)."""
    def key(ep: Episode):
        pub = ep.published
        if pub is not None and pub.tzinfo is None:
            pub = pub.replace(tzinfo=timezone.utc)
        return (pub.timestamp() if pub else float("-inf"), ep.guid)
    return sorted(episodes, key=key, reverse=True)


# ---------------------------------------------------------------- page parts
def _css() -> str:
    light, dark = PALETTE["light"], PALETTE["dark"]

    def scheme(p: dict[str, tuple[str, str]]) -> str:
        return (f"--fg:{p['text'][0]};--bg:{p['text'][1]};--muted:{p['muted'][0]};--link:{p['link'][0]};"
                f"--cur-fg:{p['current'][0]};--cur-bg:{p['current'][1]};--btn-fg:{p['button'][0]};"
                f"--btn-bg:{p['button'][1]};--focus:{p['focus'][0]}")

    return f"""
:root{{{scheme(light)};color-scheme:light dark}}
@media (prefers-color-scheme:dark){{:root{{{scheme(dark)}}}}}
*{{box-sizing:border-box}}
body{{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:1.125rem;line-height:1.6;color:var(--fg);background:var(--bg)}}
header,main,footer{{max-width:46rem;margin:0 auto;padding:0 1rem}}
a{{color:var(--link);text-underline-offset:.15em}}
:focus-visible{{outline:3px solid var(--focus);outline-offset:2px}}
.skip{{position:absolute;left:-999rem;top:.5rem;padding:.5rem 1rem;background:var(--bg);color:var(--link)}}
.skip:focus{{left:.5rem;z-index:2}}
nav ul,.links{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}}
.meta,.hint{{color:var(--muted)}}
.settings{{margin:1rem 0;padding:.75rem 1rem;border:1px solid var(--muted);border-radius:.5rem}}
label{{font-weight:600;margin-right:.5rem}}
.switch{{margin:.75rem 0 0}}
input[type=checkbox]{{width:1.5rem;height:1.5rem;vertical-align:middle;margin:0 .5rem 0 0}}
select,button{{font:inherit;color:var(--btn-fg);background:var(--btn-bg);border:1px solid var(--muted);border-radius:.35rem;min-height:2.75rem;padding:.25rem .75rem}}
article{{border-top:2px solid var(--muted);margin-top:2rem;padding-top:.5rem}}
audio{{width:100%;margin:.5rem 0}}
.steps{{display:flex;gap:.75rem;flex-wrap:wrap}}
.transcript{{padding-left:0;list-style:none}}
.transcript button{{display:block;width:100%;text-align:left;border-color:transparent;background:transparent;color:var(--fg);margin:.15rem 0}}
.transcript button[aria-current]{{background:var(--cur-bg);color:var(--cur-fg);border-color:var(--fg);font-weight:600}}
.transcript .t{{color:var(--muted);font-size:.9em;margin-right:.5rem}}
.transcript button[aria-current] .t{{color:var(--cur-fg)}}
summary{{cursor:pointer;font-weight:600;min-height:2.75rem;padding:.5rem 0}}
#status{{min-height:1.6em;font-weight:600}}
kbd{{font:inherit;font-weight:600;border:1px solid var(--muted);border-radius:.25rem;padding:0 .35rem}}
@media (prefers-reduced-motion:no-preference){{html{{scroll-behavior:smooth}}}}
@media (prefers-reduced-motion:reduce){{*{{transition:none!important;animation:none!important;scroll-behavior:auto!important}}}}
@media (forced-colors:active){{.transcript button[aria-current]{{border:3px solid Highlight;text-decoration:underline}}}}
""".strip()


#: The page script. Small on purpose: speed, sentence seek/highlight, sentence/paragraph steps, keys.
SCRIPT = r"""
(function () {
  "use strict";
  var KEY = %(key)s, SPEEDS = %(speeds)s, DEFAULT = %(default)s, KEYS_KEY = %(keys_key)s;
  var POSITION = %(position)s, SAVE_EVERY = %(save_every)s;
  var speed = document.getElementById("speed");
  var keys = document.getElementById("shortcuts");
  var status = document.getElementById("status");
  var players = [];

  function say(text) { status.textContent = text; }

  function indexAt(p, t) {
    var i = -1;
    for (var k = 0; k < p.starts.length && p.starts[k] <= t + 0.05; k++) i = k;
    return i;
  }

  function mark(p, i) {
    if (i === p.current) return;
    if (p.current >= 0) p.buttons[p.current].removeAttribute("aria-current");
    if (i >= 0) p.buttons[i].setAttribute("aria-current", "true");
    p.current = i;
  }

  function seek(p, i, play) {
    if (!p.starts.length) return -1;
    i = Math.max(0, Math.min(p.starts.length - 1, i));
    p.audio.currentTime = p.starts[i];
    mark(p, i);
    if (play) {
      var r = p.audio.play();
      if (r && r.catch) r.catch(function () {});
    }
    return i;
  }

  function step(p, d) {
    if (!p || !p.starts.length) return;
    var i = indexAt(p, p.audio.currentTime);
    i = seek(p, i + d, false);
    say("Câu " + (i + 1) + "/" + p.starts.length);
  }

  function paragraphOf(p, i) {
    var g = -1;
    for (var k = 0; k < p.paras.length && p.paras[k] <= i; k++) g = k;
    return g;
  }

  function paraStep(p, d) {
    if (!p || !p.starts.length) return;
    var g = paragraphOf(p, indexAt(p, p.audio.currentTime));
    if (g + d < p.paras.length) {  // past the last paragraph: stay (never jump back), and say where
      g = Math.max(0, g + d);
      seek(p, p.paras[g], false);
    }
    say("Đoạn " + (g + 1) + "/" + p.paras.length);
  }

  function applyRate(rate) {
    for (var k = 0; k < players.length; k++) {
      players[k].audio.defaultPlaybackRate = rate;
      players[k].audio.playbackRate = rate;
    }
  }

  function setRate(rate, announce) {
    speed.value = String(rate);
    applyRate(rate);
    try { localStorage.setItem(KEY, String(rate)); } catch (e) {}
    if (announce) say("Tốc độ đọc: " + speed.options[speed.selectedIndex].text);
  }

  function stored() {
    var v = null;
    try { v = parseFloat(localStorage.getItem(KEY)); } catch (e) {}
    return SPEEDS.indexOf(v) >= 0 ? v : DEFAULT;
  }

  function keepInView(b) {
    var still = typeof window !== "undefined" && window.matchMedia &&
                window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (b.scrollIntoView) b.scrollIntoView({block: "nearest", inline: "nearest", behavior: still ? "auto" : "smooth"});
  }

  function clock(t) {
    t = Math.floor(t);
    var h = Math.floor(t / 3600), m = Math.floor(t %% 3600 / 60), s = t %% 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function savePosition(p) {
    var t = p.audio.currentTime;
    p.saved = t;
    try {
      if (t >= 1) localStorage.setItem(p.key, String(Math.floor(t * 10) / 10));
      else localStorage.removeItem(p.key);
    } catch (e) {}
  }

  function forgetPosition(p) {
    p.saved = 0;
    try { localStorage.removeItem(p.key); } catch (e) {}
    hideResume(p);
  }

  function hideResume(p) {
    if (p.resume) p.resume.parentNode.setAttribute("hidden", "");
  }

  function offerResume(p) {
    var t = NaN;
    try { t = parseFloat(localStorage.getItem(p.key)); } catch (e) {}
    if (!p.resume || !(t >= 1) || !isFinite(t)) return;
    p.resumeAt = t;
    p.resume.textContent = "Nghe tiếp từ " + clock(t);
    p.resume.parentNode.removeAttribute("hidden");
  }

  function resume(p) {
    p.audio.currentTime = p.resumeAt;
    if (p.audio.focus) p.audio.focus();
    hideResume(p);
    var r = p.audio.play();
    if (r && r.catch) r.catch(function () {});
  }

  function playerOf(node) {
    for (var k = 0; k < players.length; k++) if (players[k].el.contains(node)) return players[k];
    return null;
  }

  var eps = document.querySelectorAll("[data-episode]");
  for (var n = 0; n < eps.length; n++) (function (el) {
    var p = {el: el, audio: el.querySelector("audio"), buttons: el.querySelectorAll("button[data-start]"),
             starts: [], paras: [], current: -1, key: POSITION + el.getAttribute("data-episode"),
             resume: el.querySelector("button[data-resume]"), resumeAt: 0, started: false, saved: 0};
    for (var k = 0; k < p.buttons.length; k++) {
      p.starts.push(parseFloat(p.buttons[k].getAttribute("data-start")));
      var para = p.buttons[k].getAttribute("data-paragraph");
      if (!k || para !== p.buttons[k - 1].getAttribute("data-paragraph")) p.paras.push(k);
    }
    players.push(p);
    function follow() {
      var was = p.current;
      mark(p, indexAt(p, p.audio.currentTime));
      if (p.current !== was && p.current >= 0 && !p.audio.paused) keepInView(p.buttons[p.current]);
    }
    p.audio.addEventListener("timeupdate", function () {
      follow();
      if (p.started && Math.abs(p.audio.currentTime - p.saved) >= SAVE_EVERY) savePosition(p);
    });
    p.audio.addEventListener("seeked", function () {
      follow();
      if (p.started) savePosition(p);
    });
    p.audio.addEventListener("pause", function () { if (p.started && !p.audio.ended) savePosition(p); });
    p.audio.addEventListener("ended", function () { forgetPosition(p); });
    offerResume(p);
    p.audio.addEventListener("play", function () {
      p.started = true;
      hideResume(p);
      p.audio.playbackRate = parseFloat(speed.value);
      for (var k = 0; k < players.length; k++) if (players[k] !== p) players[k].audio.pause();
    });
    el.addEventListener("click", function (ev) {
      var b = ev.target.closest ? ev.target.closest("button") : null;
      if (!b || !el.contains(b)) return;
      var i = Array.prototype.indexOf.call(p.buttons, b);
      if (i >= 0) seek(p, i, true);
      else if (b === p.resume) resume(p);
      else if (b.getAttribute("data-step")) step(p, parseInt(b.getAttribute("data-step"), 10));
      else if (b.getAttribute("data-para-step")) paraStep(p, parseInt(b.getAttribute("data-para-step"), 10));
    });
  })(eps[n]);

  if (typeof window !== "undefined" && window.addEventListener) window.addEventListener("pagehide", function () {
    for (var k = 0; k < players.length; k++) if (players[k].started && !players[k].audio.ended) savePosition(players[k]);
  });

  setRate(stored(), false);
  speed.addEventListener("change", function () { setRate(parseFloat(speed.value), true); });

  try { keys.checked = localStorage.getItem(KEYS_KEY) !== "off"; } catch (e) {}
  keys.addEventListener("change", function () {
    try { localStorage.setItem(KEYS_KEY, keys.checked ? "on" : "off"); } catch (e) {}
    say(keys.checked ? "Đã bật phím tắt một phím" : "Đã tắt phím tắt một phím");
  });

  document.addEventListener("keydown", function (ev) {
    if (!keys.checked || ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var t = ev.target, tag = t && t.tagName ? t.tagName.toUpperCase() : "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (t && t.isContentEditable)) return;
    var p = playerOf(t), i = SPEEDS.indexOf(parseFloat(speed.value));
    if (!p) return;
    if ((ev.key === "j" || ev.key === "J") && ev.shiftKey) paraStep(p, -1);
    else if ((ev.key === "k" || ev.key === "K") && ev.shiftKey) paraStep(p, 1);
    else if (ev.key === "j" || ev.key === "J") step(p, -1);
    else if (ev.key === "k" || ev.key === "K") step(p, 1);
    else if (ev.key === "<") setRate(SPEEDS[Math.max(0, i - 1)], true);
    else if (ev.key === ">") setRate(SPEEDS[Math.min(SPEEDS.length - 1, i + 1)], true);
    else return;
    ev.preventDefault();
  });
})();
""".strip()


#: The reading form's script: POST read as JSON, play the stream at once, show the saved episode's link.
#: Appended to the page script (one inline block, one CSP hash). It does nothing without ``fetch``
#: (and hides the form when the page is not served by a ``vnreader serve`` whose form is on).
FORM_SCRIPT = r"""
(function () {
  "use strict";
  var form = document.getElementById("read-form");
  if (!form || typeof fetch !== "function" || typeof FormData !== "function") return;
  var box = document.getElementById("read"), result = document.getElementById("read-result");
  var status = document.getElementById("status"), button = form.querySelector("button");
  var JSON_ONLY = {Accept: "application/json"};
  function say(text) { status.textContent = text; }
  fetch("read", {headers: JSON_ONLY}).then(function (r) { if (!r.ok) box.hidden = true; },
                                            function () { box.hidden = true; });

  function answer(r) {
    return r.json().then(function (j) { return {ok: r.ok, job: j}; },
                         function () { return {ok: false, job: {}}; });
  }

  function audio() {
    var a = result.querySelector("audio");
    if (!a) {
      a = document.createElement("audio");
      a.controls = true;
      a.preload = "auto";
      result.insertBefore(a, result.querySelector("p"));
    }
    return a;
  }

  function ready(job) {
    var link = document.getElementById("read-saved");
    link.href = job.episode_url;
    link.hidden = false;
    say("Đã đọc xong: " + job.title + ". Bài đã được lưu, có thể tải về.");
  }

  function watch(job) {
    setTimeout(function () {
      fetch(job.status_url, {headers: JSON_ONLY}).then(answer).then(function (x) {
        if (!x.ok) return;
        if (x.job.state === "done") ready(x.job);
        else if (x.job.state === "failed") say(x.job.error || "Không đọc được bài.");
        else watch(job);
      }, function () { watch(job); });
    }, 1000);
  }

  function play(job) {
    var a = audio();
    document.getElementById("read-title").textContent = job.title;
    document.getElementById("read-saved").hidden = true;
    a.setAttribute("aria-label", "Nghe bài: " + job.title);
    result.hidden = false;
    a.src = job.stream_url;
    var p = a.play();
    if (p && p.catch) p.catch(function () {});
    say("Đang đọc: " + job.title);
    watch(job);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    button.disabled = true;
    say("Đang tải bài…");
    fetch(form.getAttribute("action"), {method: "POST", headers: JSON_ONLY,
                                        body: new URLSearchParams(new FormData(form))})
      .then(answer).then(function (x) {
        button.disabled = false;
        if (x.ok) play(x.job);
        else say(x.job.error || "Không đọc được bài.");
      }, function () {
        button.disabled = false;
        say("Không kết nối được máy chủ.");
      });
  });
})();
""".strip()


def read_form() -> list[str]:
    """The section "Đọc bài báo": an article URL or pasted text, read aloud by ``vnreader serve``.

    Without JavaScript the form posts to ``read`` and the server answers with a page holding a
    player for the stream; with it, ``FORM_SCRIPT`` plays the stream on this page. Relative
    URLs, so it works under a private ``/TOKEN/`` too.
    """
    return [
        '<section id="read" class="settings" aria-labelledby="read-h">',
        '<h2 id="read-h">Đọc bài báo</h2>',
        '<form id="read-form" method="post" action="read">',
        '<p><label for="read-url">Địa chỉ bài báo</label>',
        '<input id="read-url" name="url" type="url" inputmode="url" autocomplete="url" '
        'placeholder="https://…" size="40"></p>',
        '<p><label for="read-text">Hoặc dán nội dung bài</label><br>',
        '<textarea id="read-text" name="text" rows="4" cols="40"></textarea></p>',
        '<p><button type="submit">Nghe ngay</button></p>',
        "</form>",
        '<div id="read-result" hidden>',
        '<h3 id="read-title"></h3>',
        '<p><a id="read-saved" href="#read" download hidden>Tải bài đã đọc</a></p>',
        "</div>",
        "</section>",
    ]


def _script() -> str:
    return SCRIPT % {"key": json.dumps(STORAGE_KEY), "speeds": json.dumps([s for s, _ in SPEEDS]),
                     "default": json.dumps(DEFAULT_SPEED), "keys_key": json.dumps(SHORTCUTS_KEY),
                     "position": json.dumps(POSITION_KEY), "save_every": json.dumps(SAVE_EVERY)}


def _sha256(text: str) -> str:
    """A CSP source for one inline block: only the page's own script and style may run."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _transcript(anchor: str, cues: Sequence[Cue], open_: bool) -> list[str]:
    if not cues:
        return ['<p class="hint">Bài này chưa có bản ghi.</p>']
    out = [f'<details class="transcript-box"{" open" if open_ else ""}>',
           f'<summary id="{anchor}-tr">Bản ghi: {len(cues)} câu — chọn một câu để nghe từ câu đó</summary>',
           f'<ol class="transcript" aria-labelledby="{anchor}-tr">']
    for c in cues:
        out.append(f'<li><button type="button" data-start="{_seconds(c.start)}" data-paragraph="{c.paragraph}">'
                   f'<span class="t" aria-hidden="true">{_clock(c.start)}</span>{_e(c.text)}</button></li>')
    out += ["</ol>", "</details>"]
    return out


def _episode(ep: Episode, anchor: str, out_dir: Path, first: bool) -> list[str]:
    title = _e(ep.title)
    mp3 = _href(ep.path, out_dir)
    vtt = _href(ep.transcript_vtt, out_dir)
    srt = _href(ep.transcript_srt, out_dir)
    meta = []
    if ep.published is not None:
        meta.append(f'<time datetime="{ep.published.isoformat()}">{format_date(ep.published)}</time>')
    meta.append(f'Thời lượng: <time datetime="{iso_duration(ep.duration)}">{format_duration(ep.duration)}</time>')
    host = urlsplit(ep.link).hostname if ep.link else None
    if host:
        meta.append(f"Nguồn: {_e(host.removeprefix('www.'))}")
    if ep.author:
        meta.append(f"Tác giả: {_e(ep.author)}")
    key = _e(ep.guid or Path(ep.path).name)
    out = [f'<article id="{anchor}" data-episode="{key}" aria-labelledby="{anchor}-h">',
           f'<h2 id="{anchor}-h">{title}</h2>',
           f'<p class="meta">{" · ".join(meta)}</p>']
    if ep.description:
        out.append(f"<p>{_e(ep.description)}</p>")
    out.append(f'<audio controls preload="none" src="{mp3}" aria-label="Nghe bài: {title}">')
    if vtt:
        out.append(f'<track kind="captions" srclang="vi" label="Tiếng Việt" src="{vtt}">')
    out.append(f'<a href="{mp3}">Tải tệp MP3</a>')
    out.append("</audio>")
    out.append(f'<p class="resume" hidden><button type="button" data-resume aria-describedby="{anchor}-h">'
               "Nghe tiếp</button></p>")
    if ep.cues:
        out += [f'<div class="steps" role="group" aria-label="Chuyển câu, chuyển đoạn: {title}">',
                f'<button type="button" data-para-step="-1" aria-label="Đoạn trước: {title}">Đoạn trước</button>',
                f'<button type="button" data-step="-1" aria-label="Câu trước: {title}">Câu trước</button>',
                f'<button type="button" data-step="1" aria-label="Câu sau: {title}">Câu sau</button>',
                f'<button type="button" data-para-step="1" aria-label="Đoạn sau: {title}">Đoạn sau</button>',
                "</div>"]
    out += _transcript(anchor, ep.cues, first)
    links = [f'<li><a href="{mp3}" download>MP3 ({_e(format_duration(ep.duration))})</a></li>']
    if vtt:
        links.append(f'<li><a href="{vtt}">Bản ghi WebVTT</a></li>')
    if srt:
        links.append(f'<li><a href="{srt}">Bản ghi SRT</a></li>')
    if ep.link and urlsplit(ep.link).scheme in ("http", "https"):
        links.append(f'<li><a href="{_e(ep.link)}">Đọc bài gốc</a></li>')
    out += [f'<ul class="links" aria-label="Tệp và liên kết: {title}">', *links, "</ul>", "</article>"]
    return out


def build_page(episodes: Sequence[Episode], out_dir: Path, *, channel_title: str, feed_url: str,
               feed_file: str = FEED_FILE) -> str:
    """The page's HTML; see the module docstring. The page links to ``feed_file`` beside it and
    shows ``feed_url`` (the feed's public address) as text to copy into a podcast app."""
    out_dir = Path(out_dir)
    eps = _order(episodes)
    taken: set[str] = set()
    anchors = [_anchor(ep, taken) for ep in eps]
    title = _e(channel_title)
    feed = quote(feed_file, safe="/")
    speeds = "".join(f'<option value="{rate:g}"{" selected" if rate == DEFAULT_SPEED else ""}>{label}</option>'
                     for rate, label in SPEEDS)
    css, script = _css(), _script() + "\n" + FORM_SCRIPT
    policy = (f"script-src '{_sha256(script)}'; style-src '{_sha256(css)}'; object-src 'none'; base-uri 'none'; "
              "form-action 'self'")
    keys = "".join(f"<li><kbd>{escape(k)}</kbd>: {escape(what)}</li>" for k, what in SHORTCUTS)
    toc = "".join(f'<li><a href="#{a}">{_e(ep.title)}</a></li>' for a, ep in zip(anchors, eps))
    lines = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        f"<title>{title}</title>",
        f'<link rel="alternate" type="application/rss+xml" title="{title}" href="{feed}">',
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">Bỏ qua, đến nội dung chính</a>',
        "<header>",
        f"<h1>{title}</h1>",
        '<nav aria-label="Mục lục">',
        "<ul>",
        '<li><a href="#main">Danh sách bài</a></li>',
        '<li><a href="#help">Phím tắt</a></li>',
        f'<li><a href="{feed}">Đăng ký podcast (RSS)</a></li>',
        "</ul>",
        "</nav>",
        "</header>",
        '<main id="main" tabindex="-1">',
        '<div class="settings">',
        '<label for="speed">Tốc độ đọc</label>',
        f'<select id="speed" name="speed">{speeds}</select>',
        '<p class="switch"><input type="checkbox" id="shortcuts" name="shortcuts" checked '
        'aria-describedby="shortcuts-hint">',
        '<label for="shortcuts">Phím tắt một phím</label>',
        '<span id="shortcuts-hint" class="hint">(J, K, Shift+J, Shift+K, &lt;, &gt; khi con trỏ ở trong một bài; '
        '<a href="#help">xem phím tắt</a>)</span></p>',
        "</div>",
        "<noscript><p>Trình duyệt đang tắt JavaScript: trình phát vẫn dùng được, nhưng các nút chọn câu, "
        "chuyển câu, chuyển đoạn, tốc độ đọc, phím tắt và nghe tiếp cần JavaScript.</p></noscript>",
        '<p id="status" role="status" aria-live="polite"></p>',
    ]
    lines += read_form()
    if eps:
        lines += [f'<p>{len(eps)} bài, mới nhất ở trên. Mỗi bài là một tiêu đề cấp 2.</p>',
                  f'<nav aria-label="Các bài"><ol>{toc}</ol></nav>']
        for i, (a, ep) in enumerate(zip(anchors, eps)):
            lines += _episode(ep, a, out_dir, i == 0)
    else:
        lines.append("<p>Chưa có bài nào. Chạy <code>vnreader run</code> hoặc <code>vnreader demo</code>.</p>")
    lines += [
        '<section id="help" aria-labelledby="help-h">',
        '<h2 id="help-h">Phím tắt</h2>',
        "<p>Các phím này chỉ có tác dụng khi con trỏ (tiêu điểm) ở trong một bài: trình phát, các nút chuyển "
        "câu hay bản ghi của bài đó; không có tác dụng ở nơi khác trên trang, trong ô chọn hay ô nhập, hoặc khi "
        "giữ Alt, Ctrl hay Cmd. Tắt hẳn chúng bằng ô <a href=\"#shortcuts\">Phím tắt một phím</a> ở đầu trang; "
        "trình duyệt ghi nhớ lựa chọn này. Với trình đọc màn hình, hãy chuyển sang chế độ tiêu điểm (focus mode) "
        "trước khi dùng phím một chữ cái.</p>",
        f"<ul>{keys}</ul>",
        "<p>Khi đang phát, câu đang đọc được tô nổi trong bản ghi và luôn được giữ trong tầm nhìn (con trỏ "
        "không bị di chuyển). Trang không tự phát âm thanh.</p>",
        "<p>Trang nhớ chỗ bạn đang nghe trong từng bài. Lần sau mở trang, nút “Nghe tiếp từ …” cạnh trình phát "
        "cho nghe tiếp từ chỗ đó; nghe hết bài thì trang quên chỗ đã lưu. Tốc độ đọc từ 0,75× đến 3×.</p>",
        "</section>",
        "</main>",
        "<footer>",
        f'<p>Tạo bởi vnreader. <a href="{feed}">Nguồn cấp RSS</a> để nghe trong ứng dụng podcast; '
        f'địa chỉ để đăng ký: <code>{_e(feed_url)}</code></p>',
        "</footer>",
        f"<script>{script}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


def write_player(episodes: Sequence[Episode], out_dir: Path, *, channel_title: str, feed_url: str,
                 feed_file: str = FEED_FILE) -> Path:
    """Write ``out_dir/index.html`` atomically and return its path (unchanged pages are not rewritten)."""
    out_dir = Path(out_dir)
    data = build_page(episodes, out_dir, channel_title=channel_title, feed_url=feed_url,
                      feed_file=feed_file).encode("utf-8")
    target = out_dir / PAGE_NAME
    try:
        if target.is_file() and target.read_bytes() == data:
            return target
        return atomic_write_bytes(target, data)
    except OSError as e:
        raise PublishError(str(target), f"could not write the listening page: {e.strerror or e}",
                           fix="check that the output folder exists and is writable") from e

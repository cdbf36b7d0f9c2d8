"""The listening page in a real browser: headless Chromium (Debian's, driven by Playwright)
on the real `vnreader demo` output, served by the real `vnreader serve` on 127.0.0.1.

Keyboard-only playback, sentence and paragraph steps, the shortcuts switch and its scope,
resume after a reload, keeping the current sentence in view, forced colours, and an axe-core
scan (tests/data/axe, MPL-2.0) in each state. These never skip: without /usr/bin/chromium they
fail, and `.ci/run` installs it. Every wait is `wait_for_function` on the page's own state.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the whole module: see README, "Development"

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "data" / "axe" / "axe.min.js"
ARGS = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
WAIT = 20_000  # ms; a ceiling for the browser's own events, never a pause
A = "document.querySelector('audio')"  # the newest article's player
FIRST = "document.querySelector('[data-episode]')"


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The real demo output, once per module."""
    out = tmp_path_factory.mktemp("browser") / "audio_out"
    proc = subprocess.run([sys.executable, "-m", "reader", "demo", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (out / "index.html").is_file()
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url(demo):
    """`vnreader serve --dir DEMO` on a free loopback port, as an operator starts it."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "reader", "serve", "--dir", str(demo), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"vnreader serve did not start: {proc.stderr.read()}")
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: these tests need Debian's Chromium. `.ci/run` installs it "
                    "(apt-get install -y chromium); on a developer machine run that once.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: `make dev` installs requirements-dev.txt "
                    "(never `playwright install`: the tests use /usr/bin/chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, url):
    """A fresh profile (empty localStorage) on the page. The CSP is bypassed so Playwright's waits
    and axe can run; `test_page_script_runs_under_its_own_policy` covers the page without that."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1000, "height": 700})
    p = context.new_page()
    p.set_default_timeout(WAIT)
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(url)
    yield p
    context.close()
    assert errors == []


# ---------------------------------------------------------------- helpers
def focused(page) -> str:
    return page.evaluate("(() => { const e = document.activeElement;"
                         " return e.id || e.tagName.toLowerCase(); })()")


def tab_to(page, predicate: str, back: bool = False, limit: int = 60) -> None:
    """Press Tab (Shift+Tab with ``back``) until ``predicate`` (JS on document.activeElement) holds."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(f"(e => !!({predicate}))(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached {predicate}; focus on {focused(page)}")


def starts(page) -> list[tuple[float, str]]:
    """The newest article's sentences: (start, paragraph)."""
    return page.evaluate(f"[...{FIRST}.querySelectorAll('button[data-start]')]"
                         ".map(b => [parseFloat(b.dataset.start), b.dataset.paragraph])")


def paragraph_starts(page) -> list[float]:
    s = starts(page)
    return [t for i, (t, para) in enumerate(s) if i == 0 or para != s[i - 1][1]]


def now(page) -> float:
    return page.evaluate(f"{A}.currentTime")


def status(page) -> str:
    return page.evaluate("document.getElementById('status').textContent")


def play_by_keyboard(page) -> None:
    tab_to(page, "e.tagName === 'AUDIO'")
    page.keyboard.press("Space")
    page.wait_for_function(f"!{A}.paused && {A}.currentTime > 0.3")


def pause_by_keyboard(page) -> None:
    page.keyboard.press("Space")
    page.wait_for_function(f"{A}.paused")


def switch_shortcuts_off(page) -> None:
    # from a player, back to the switch; from a fresh page, forward from the top
    tab_to(page, "e.id === 'shortcuts'", back=page.evaluate("document.activeElement !== document.body"))
    page.keyboard.press("Space")
    page.wait_for_function("!document.getElementById('shortcuts').checked")


def offer_resume(page, at: float = 5.0) -> None:
    """Play, seek to ``at``, pause, reload: the page offers the position back."""
    play_by_keyboard(page)
    page.evaluate(f"{A}.currentTime = {at}")
    page.wait_for_function(f"{A}.currentTime >= {at}")
    pause_by_keyboard(page)
    page.reload()
    page.wait_for_function(f"!{FIRST}.querySelector('.resume').hidden")


# ---------------------------------------------------------------- keyboard only
def test_keyboard_only_playback_speed_and_steps(page):
    play_by_keyboard(page)
    t = now(page)
    page.wait_for_function(f"{A}.currentTime > {t + 0.3}")  # playing: the time moves on

    page.keyboard.press(">")
    page.wait_for_function(f"{A}.playbackRate === 1.25")
    assert status(page) == "Tốc độ đọc: 1,25×"
    assert page.evaluate("localStorage.getItem('vnreader.playbackRate')") == "1.25"
    pause_by_keyboard(page)

    s = [t for t, _ in starts(page)]
    paras = paragraph_starts(page)
    assert len(paras) >= 3 and len(s) > len(paras)
    page.evaluate(f"{A}.currentTime = {s[0]}")
    page.keyboard.press("k")
    assert now(page) == pytest.approx(s[1], abs=0.01) and status(page) == f"Câu 2/{len(s)}"
    page.keyboard.press("k")
    assert now(page) == pytest.approx(s[2], abs=0.01)
    page.keyboard.press("j")
    assert now(page) == pytest.approx(s[1], abs=0.01)
    page.evaluate(f"{A}.currentTime = {s[0]}")
    page.keyboard.press("Shift+K")
    assert now(page) == pytest.approx(paras[1], abs=0.01) and status(page) == f"Đoạn 2/{len(paras)}"
    page.keyboard.press("Shift+K")
    assert now(page) == pytest.approx(paras[2], abs=0.01)
    page.keyboard.press("Shift+J")
    assert now(page) == pytest.approx(paras[1], abs=0.01)
    assert focused(page) == "audio"  # the keys never move focus

    # the on-page buttons, by keyboard too
    tab_to(page, "e.dataset.paraStep === '1'")
    page.keyboard.press("Enter")
    assert now(page) == pytest.approx(paras[2], abs=0.01)
    tab_to(page, "e.dataset.step === '-1'", back=True)
    page.keyboard.press("Enter")
    before = [t for t in s if t < paras[2] - 0.01][-1]
    assert now(page) == pytest.approx(before, abs=0.01)

    switch_shortcuts_off(page)
    assert status(page) == "Đã tắt phím tắt một phím"
    tab_to(page, "e.tagName === 'AUDIO'")
    at = now(page)
    for key in ("k", "j", "Shift+K", ">"):
        page.keyboard.press(key)
    assert now(page) == at and page.evaluate(f"{A}.playbackRate") == 1.25
    page.reload()
    assert page.evaluate("document.getElementById('shortcuts').checked") is False  # remembered


@pytest.mark.parametrize("where", ["nothing", "toc-link", "speed-neighbour", "help-link"])
def test_shortcuts_do_nothing_outside_a_player(page, where):
    page.evaluate(f"{A}.play()")
    page.wait_for_function(f"!{A}.paused")
    page.evaluate(f"{A}.pause()")
    if where == "toc-link":
        tab_to(page, "e.closest('nav[aria-label=\"Các bài\"]')")
    elif where == "speed-neighbour":
        tab_to(page, "e.id === 'shortcuts'")
        page.keyboard.press("Tab")  # the hint's link, beside the switch
    elif where == "help-link":
        page.evaluate("document.querySelector('#help a').focus()")
    else:
        page.evaluate("document.activeElement.blur()")
    at = now(page)
    for key in ("k", "j", "Shift+K", "Shift+J", ">", "<"):
        page.keyboard.press(key)
    assert now(page) == at and page.evaluate(f"{A}.playbackRate") == 1 and status(page) == ""


# ---------------------------------------------------------------- resume
def test_reload_offers_the_position_and_restores_it(page):
    offer_resume(page, 5.0)
    button = page.locator("[data-episode] button[data-resume]").first
    assert button.is_visible() and button.inner_text() == "Nghe tiếp từ 0:05"
    assert page.evaluate(f"[{A}.paused, {A}.currentTime]") == [True, 0]  # offered, not autoplayed
    tab_to(page, "e.dataset.resume !== undefined")
    page.keyboard.press("Enter")
    page.wait_for_function(f"!{A}.paused && {A}.currentTime > 5.0")
    assert not button.is_visible() and focused(page) == "audio"


def test_a_finished_episode_is_not_offered_again(page):
    play_by_keyboard(page)
    page.evaluate(f"{A}.playbackRate = 3; {A}.currentTime = {A}.duration - 0.5")
    page.wait_for_function(f"{A}.ended")
    page.reload()
    page.wait_for_function("document.readyState === 'complete'")
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('vnreader.position.'))") == []
    assert page.locator("button[data-resume]").first.is_visible() is False


# ---------------------------------------------------------------- following along
def test_current_sentence_is_kept_in_view_without_moving_focus(page):
    play_by_keyboard(page)
    late = starts(page)[-3][0]
    page.evaluate(f"{A}.currentTime = {late}")
    page.wait_for_function(f"{FIRST}.querySelector('button[aria-current]')?.dataset.start === '{late:.3f}'")
    page.wait_for_function("(() => { const r = document.querySelector('[data-episode] button[aria-current]')"
                           ".getBoundingClientRect(); return r.top >= -1 && r.bottom <= innerHeight + 1; })()")  # ±1 px: subpixel layout
    assert focused(page) == "audio"


def test_forced_colours_outline_the_current_sentence(page):
    page.emulate_media(forced_colors="active")
    tab_to(page, "e.tagName === 'AUDIO'")
    page.keyboard.press("k")
    page.wait_for_function(f"{FIRST}.querySelector('button[aria-current]')")
    widths = page.evaluate(f"""[...{FIRST}.querySelectorAll('button[data-start]')].slice(0, 3).map(b => {{
        const c = getComputedStyle(b);
        return [b.hasAttribute('aria-current'),
                Math.max(parseFloat(c.outlineWidth) * (c.outlineStyle !== 'none'), parseFloat(c.borderTopWidth))];
    }})""")
    current = [w for cur, w in widths if cur]
    others = [w for cur, w in widths if not cur]
    assert len(current) == 1 and current[0] > 0 and all(current[0] > w for w in others), widths


def test_players_and_steps_are_named_with_their_article_in_the_accessibility_tree(page):
    """What a screen reader is handed: Chromium's own accessibility tree, not our markup."""
    titles = page.evaluate("[...document.querySelectorAll('[data-episode] h2')].map(h => h.textContent)")
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    named = [(n.get("role", {}).get("value"), n.get("name", {}).get("value", "")) for n in nodes]
    assert [name for role, name in named if role == "Audio"] == [f"Nghe bài: {t}" for t in titles]
    for t in titles:
        steps = [name for role, name in named if role == "button" and name.endswith(f": {t}")]
        assert steps == [f"{w}: {t}" for w in ("Đoạn trước", "Câu trước", "Câu sau", "Đoạn sau")]
    assert ("checkbox", "Phím tắt một phím") in named


# ---------------------------------------------------------------- axe-core
def _fresh(page):
    pass


def _playing(page):
    play_by_keyboard(page)
    page.wait_for_function(f"{FIRST}.querySelector('button[aria-current]')")


def _shortcuts_off(page):
    switch_shortcuts_off(page)


STATES = {"fresh": _fresh, "playing": _playing, "shortcuts-off": _shortcuts_off, "resume-offered": offer_resume}


@pytest.mark.parametrize("state", list(STATES))
def test_axe_finds_no_serious_violations(page, state):
    STATES[state](page)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                           .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")
    assert violations == []


# ---------------------------------------------------------------- the page's own policy
def test_page_script_runs_under_its_own_policy(browser, url):
    """Without bypass_csp: the inline script runs (it offers a stored position) and nothing is blocked."""
    context = browser.new_context()
    p = context.new_page()
    messages: list[str] = []
    p.on("console", lambda m: messages.append(m.text))
    try:
        p.goto(url)
        key = p.evaluate("'vnreader.position.' + document.querySelector('[data-episode]').dataset.episode")
        p.evaluate(f"localStorage.setItem({key!r}, '83')")
        p.reload()
        assert p.locator("button[data-resume]").first.inner_text() == "Nghe tiếp từ 1:23"
        assert [m for m in messages if "Content Security Policy" in m] == []
    finally:
        context.close()

"""HTML body → ordered text blocks (paragraphs, headings, list items, table rows, captions).

Conventions (documented in docs/extraction.md):
* every ``<p>``, heading, list item and quote line is one block; inside one, two ``<br>``
  start a new block and a single ``<br>`` is a space (source newlines are whitespace);
* a data table is read row by row, one block per row, cells joined with ", " (a header
  row too); a one-column layout table is read as ordinary content;
* ``<figure>``/``<figcaption>`` and photo boxes give *captions*, kept apart from the text;
  video captions are dropped;
* scripts, embeds (video, iframes, social posts), forms and furniture classes are skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree, html as lhtml
from lxml.cssselect import CSSSelector

from reader.extract.clean import boilerplate_class, layout_class, squash

SKIP_TAGS = frozenset({"script", "style", "noscript", "iframe", "video", "audio", "form", "button", "svg",
                       "input", "select", "textarea", "object", "embed", "template", "nav", "aside",
                       "footer", "header", "source", "canvas", "map", "link", "meta", "head", "title"})
BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
                        "ol", "blockquote", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "figure",
                        "figcaption", "dl", "dt", "dd", "pre", "center", "caption", "address", "details",
                        "summary", "hr"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_PHOTO_HINT = re.compile(
    r"photo|image|img|picture|figure|media|caption|tplCaption|VCSortableInPreviewMode|chu-?thich|slide", re.I)
_CAPTION_HINT = re.compile(r"caption|desc|chu-?thich|PhotoCMS_Caption|expNoEdit|note|legend", re.I)
#: a caption standing outside any figure ("<p class='image-caption'>")
_STANDALONE_CAPTION = re.compile(
    r"(^|[\s_-])(caption|PhotoCMS_Caption|chu-?thich|image-?desc|img-?desc|photo-?desc)([\s_-]|$)", re.I)
_VIDEO_HINT = re.compile(r"video|clip|player|youtube|m3u8|mp4", re.I)
_RIGHT = re.compile(r"text-align\s*:\s*right", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


#: what a ``<br>`` becomes in collected text (source newlines are only whitespace)
BR = "\u2029"
_PARA_BREAK = re.compile(BR + r"[\s" + BR + r"]*" + BR)


@dataclass(frozen=True)
class Block:
    """One piece of the body in reading order."""

    text: str
    kind: str = "p"  #: p, h (heading), li, quote, row (table row), caption
    right: bool = False  #: right-aligned (a byline on many sites)
    link_share: float = 0.0  #: share of the text inside links (teaser lists are all links)


def parse(html: str) -> lhtml.HtmlElement:
    """Parse a page with lxml; never raises on tag soup."""
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        return lhtml.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return lhtml.document_fromstring(f"<html><body>{html}</body></html>")


def select(root, selectors, first: bool = True, every: bool = False):
    """Elements for the first selector that matches anything (``first``: only its first element);
    ``every``: the elements of all the selectors."""
    if every:
        return [e for s in selectors for e in _css(s)(root)]
    for s in selectors:
        found = _css(s)(root)
        if found:
            return found[:1] if first else found
    return []


_CSS_CACHE: dict[str, CSSSelector] = {}


def _css(s: str) -> CSSSelector:
    sel = _CSS_CACHE.get(s)
    if sel is None:
        sel = _CSS_CACHE[s] = CSSSelector(s)
    return sel


def is_furniture_el(el, *, inside_body: bool = True) -> bool:
    """Skipped tag, hidden, or a class/id naming a widget (``data/boilerplate_classes.txt``; inside a
    body also the layout names of ``data/layout_classes.txt``)."""
    tag = el.tag
    if not isinstance(tag, str):
        return True
    tag = tag.lower()
    if tag in SKIP_TAGS:
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN.search(style):
        return True
    if tag == "a":
        return False  # inline links keep their words ("cms-relate" links inside a sentence)
    pat = boilerplate_class()
    layout = layout_class() if inside_body else None
    for token in (el.get("class") or "").split() + ([el.get("id")] if el.get("id") else []):
        if pat.fullmatch(token) or (layout is not None and layout.fullmatch(token)):
            return True
    return False


def inline_text(el, links: list[int] | None = None) -> str:
    """The text of an element, skipping furniture; ``<br>`` becomes ``BR``."""
    parts: list[str] = []
    _inline(el, parts, links, in_link=False)
    return "".join(parts)


def _inline(el, parts, links, in_link):
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag == "br":
        parts.append(BR)
        return
    in_link = in_link or tag == "a"
    if el.text:
        parts.append(el.text)
        if in_link and links is not None:
            links[0] += len(el.text.strip())
    for ch in el:
        if isinstance(ch.tag, str) and not is_furniture_el(ch):
            _inline(ch, parts, links, in_link)
        if ch.tail:
            parts.append(ch.tail)
            if in_link and links is not None:
                links[0] += len(ch.tail.strip())


class Walker:
    """Walks a body element and collects ``Block``s; captions are kept as their own kind."""

    def __init__(self, drop=(), captions=()):
        self.drop = [_css(s) for s in drop]
        self.caption_sel = [_css(s) for s in captions]
        self.blocks: list[Block] = []
        self._dropped: set = set()
        self._captions: set = set()

    def run(self, body) -> list[Block]:
        for sel in self.drop:
            self._dropped.update(sel(body))
        for sel in self.caption_sel:
            self._captions.update(sel(body))
        self._walk(body, kind="p", right=False)
        return self.blocks

    # ------------------------------------------------------------
    def _emit(self, buf: list[str], kind: str, right: bool, link_chars: int) -> None:
        raw = "".join(buf)
        buf.clear()
        for line in _PARA_BREAK.split(raw):  # two <br> end a paragraph; one is a line wrap
            text = squash(line.replace(BR, " "))
            if text:
                share = min(1.0, link_chars / max(1, len(text)))
                self.blocks.append(Block(text, kind, right, share))

    def _walk(self, el, kind: str, right: bool) -> None:
        buf: list[str] = []
        links = [0]
        if el.text:
            buf.append(el.text)
        for ch in el:
            tag = ch.tag.lower() if isinstance(ch.tag, str) else None
            if tag is None or ch in self._dropped or is_furniture_el(ch):
                pass
            elif ch in self._captions or tag == "figcaption" or _STANDALONE_CAPTION.search(ch.get("class") or ""):
                self._emit(buf, kind, right, links[0])
                links = [0]
                self._caption(ch)
            elif tag == "figure" or self._is_photo_box(ch):
                self._emit(buf, kind, right, links[0])
                links = [0]
                self._figure(ch)
            elif tag == "br":
                buf.append(BR)
            elif tag == "table" and self._is_data_table(ch):
                self._emit(buf, kind, right, links[0])
                links = [0]
                self._table(ch)
            elif tag in BLOCK_TAGS or self._has_block(ch):
                self._emit(buf, kind, right, links[0])
                links = [0]
                self._walk(ch, self._kind(tag, kind), right or bool(_RIGHT.search(ch.get("style") or "")
                                                                  or (ch.get("align") or "").lower() == "right"))
            else:
                buf.append(inline_text(ch, links if tag != "a" else None))
                if tag == "a":
                    t = inline_text(ch)
                    links[0] += len(t.strip())
            if ch.tail:
                buf.append(ch.tail)
        self._emit(buf, kind, right, links[0])

    @staticmethod
    def _kind(tag: str, parent: str) -> str:
        if tag in HEADINGS:
            return "h"
        if tag in ("li", "dt", "dd"):
            return "li"
        if tag == "blockquote":
            return "quote"
        return parent if parent in ("quote",) else "p"

    @staticmethod
    def _has_block(el) -> bool:
        for d in el.iterdescendants():
            if isinstance(d.tag, str) and d.tag.lower() in BLOCK_TAGS:
                return True
        return False

    def _is_photo_box(self, el) -> bool:
        """A div/table/p holding an image and little text, marked as a photo box by class or type."""
        tag = el.tag.lower()
        if tag not in ("div", "table", "p", "span"):
            return False
        hint = " ".join(filter(None, (el.get("class"), el.get("type"), el.get("id"))))
        if not _PHOTO_HINT.search(hint):
            return False
        if el.find(".//img") is None and el.find(".//picture") is None and el.find(".//video") is None:
            return False
        return len(squash(el.text_content())) < 400

    def _figure(self, el) -> None:
        if el.find(".//video") is not None or el.find(".//iframe") is not None or _VIDEO_HINT.search(
                " ".join(filter(None, (el.get("class"), el.get("type"), el.get("data-type"))))):
            return  # video captions are not read
        caps = [c for c in el.iter() if isinstance(c.tag, str) and c is not el and (
            c.tag.lower() == "figcaption" or c in self._captions or _CAPTION_HINT.search(c.get("class") or ""))]
        if not caps:
            # caption text sitting in a cell / paragraph of the photo box
            caps = [c for c in el.iter("p", "td", "div") if c is not el and squash(c.text_content())
                    and c.find(".//img") is None]
        seen = set()
        for c in caps:
            if any(a in seen for a in c.iterancestors()):
                continue
            seen.add(c)
            self._caption(c)

    def _caption(self, el) -> None:
        text = squash(inline_text(el).replace(BR, " "))
        if text and not re.match(r"^(Video|Clip)\s*:", text, re.I):
            self.blocks.append(Block(text, "caption"))

    @staticmethod
    def _is_data_table(el) -> bool:
        rows = [r for r in el.iter("tr") if r.getparent() is not None]
        if len(rows) < 2 or el.find(".//img") is not None:
            return False
        widths = [len([c for c in r if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]) for r in rows]
        if max(widths) < 2:
            return False
        # layout tables hold paragraphs inside cells
        return all(len(squash(c.text_content())) < 400 for c in el.iter("td", "th"))

    def _table(self, el) -> None:
        caption = el.find("caption")
        if caption is not None and squash(caption.text_content()):
            self.blocks.append(Block(squash(caption.text_content()), "h"))
        for r in el.iter("tr"):
            cells = [squash(inline_text(c).replace(BR, " ")) for c in r
                     if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
            cells = [c for c in cells if c]
            if cells:
                self.blocks.append(Block(", ".join(c.rstrip(",;") for c in cells), "row"))

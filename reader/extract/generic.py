"""The generic path for sites without a profile.

``find_body`` picks the element that holds most paragraph text (a readability-style score:
each paragraph's length counts for its parent, half for its grandparent; furniture never
wins). ``trafilatura_paragraphs`` is the safety net: when trafilatura finds clearly more
text than the DOM walk, its paragraphs are used instead (they still go through the same
cleaning rules).
"""
from __future__ import annotations

import logging
import re

from reader.extract.blocks import BR, Block, inline_text, is_furniture_el, select
from reader.extract.clean import fold_key, squash, strip_dateline

#: where sites keep the sapo when no profile says so (first match wins)
LEAD_SELECTORS = (
    "[class~=sapo]", "[class*=sapo]", "[class*=Sapo]", "p.description", "h2.description", "[class~=lead]",
    "[class*=article-lead]", "[class*=detail-lead]", "[class~=summary]", "[class*=article-summary]",
    "[class~=chapeau]", "[class~=excerpt]", "[itemprop=description]",
)
_PARA_TAGS = ("p", "h2", "h3", "li", "blockquote", "pre")


def find_lead(root, description: str | None, *, strict: bool = False) -> str | None:
    """The sapo: a lead-classed element whose text starts like the page's meta description, else
    the first heading or paragraph whose text *is* the description (``stated_lead``), else
    (unless ``strict``) the first lead-classed element outside furniture and teaser lists."""
    first = None
    for el in select(root, LEAD_SELECTORS, first=False) + _all_matches(root):
        if _in_furniture(el):
            continue
        text = squash(inline_text(el).replace(BR, " "))
        if len(text) < 30:
            continue
        if description and _starts_alike(text, description):
            return text
        if first is None and not any(a.tag in ("li", "a") for a in el.iterancestors()):
            first = text
    stated = stated_lead(root, description)
    if stated:
        return stated
    return None if strict else first


_STATED_TAGS = ("h2", "h3", "h4", "p")


def stated_lead(root, description: str | None) -> str | None:
    """The first unclassed heading or paragraph equal to the meta description (whitespace, NFC and
    an outlet tag folded): the page states its sapo there (Dân trí's newer template prints it as a
    bare ``<h2>``). Risk: none in prose, since an equal line *is* the page's own summary; elements in
    teaser lists, links and furniture are passed over."""
    if not description:
        return None
    want = fold_key(strip_dateline(squash(description)))
    if len(want) < 30:
        return None
    for el in root.iter(*_STATED_TAGS):
        text = squash(inline_text(el).replace(BR, " "))
        if fold_key(strip_dateline(text)) != want:
            continue
        if (_in_furniture(el) or is_furniture_el(el, inside_body=False)
                or any(a.tag in ("li", "a", "head") for a in el.iterancestors())):
            continue
        return text
    return None


def _in_furniture(el) -> bool:
    return any(is_furniture_el(a, inside_body=False) for a in el.iterancestors() if a.tag not in ("body", "html"))


def _all_matches(root) -> list:
    out = []
    for s in LEAD_SELECTORS:
        out.extend(select(root, (s,), first=False))
    return out


def _starts_alike(a: str, b: str) -> bool:
    a, b = fold_key(strip_dateline(a)), fold_key(strip_dateline(b))
    n = min(len(a), len(b), 60)
    return n >= 25 and a[:n] == b[:n]


def find_body(root):
    """The element with the highest paragraph-text score, or None for a page without paragraphs."""
    scores: dict = {}
    for el in root.iter(*_PARA_TAGS, "figcaption", "div", "td"):
        if el.tag in ("div", "td") and any(isinstance(c.tag, str) and c.tag not in ("br", "a", "b", "strong", "i",
                                                                                      "em", "span", "img")
                                           for c in el):
            continue
        n = len(squash(el.text_content()))
        if n < 25:
            continue
        n -= sum(len(squash(a.text_content())) for a in el.iter("a"))  # teaser lists are all links
        if n < 25:
            continue
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0) + n
        gp = parent.getparent()
        if gp is not None:
            scores[gp] = scores.get(gp, 0) + n / 2
    best, best_score = None, 0.0
    for el, score in scores.items():
        if score <= best_score or el.tag in ("body", "html"):
            continue
        if any(is_furniture_el(a, inside_body=False) for a in [el, *el.iterancestors()]
               if a.tag not in ("body", "html")):
            continue
        best, best_score = el, score
    if best is None and scores:
        best = max(scores, key=lambda el: scores[el])
    # an article split in sibling blocks (part one, an ad, part two): climb while the parent holds
    # clearly more prose that is not links or furniture
    for _ in range(2):
        parent = best.getparent() if best is not None else None
        if parent is None or parent.tag in ("body", "html") or is_furniture_el(parent, inside_body=False):
            break
        if _prose(parent) > 1.25 * _prose(best):
            best = parent
        else:
            break
    return best


def _prose(el) -> int:
    """Characters of paragraph text under ``el``, less link text, outside furniture."""
    total = 0
    for p in el.iter(*_PARA_TAGS):
        if any(is_furniture_el(a) for a in p.iterancestors() if a is not el and el in a.iterancestors()):
            continue
        n = len(squash(p.text_content())) - sum(len(squash(a.text_content())) for a in p.iter("a"))
        if n >= 25:
            total += n
    return total


def trafilatura_paragraphs(html: str) -> list[Block]:
    """trafilatura's main text, one block per line (tables off, comments off)."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a declared dependency
        return []
    try:
        text = trafilatura.extract(html, include_comments=False, include_tables=False, include_images=False,
                                   deduplicate=False) or ""
    except Exception as e:  # noqa: BLE001 - trafilatura raises many kinds on odd pages; it is only a fallback
        logging.getLogger(__name__).warning("trafilatura failed on a page, its fallback text is lost: %s: %s",
                                            type(e).__name__, e)
        return []
    out = []
    for line in text.splitlines():
        line = re.sub(r"^[-*•]\s+", "", squash(line))
        if line:
            out.append(Block(line))
    return out

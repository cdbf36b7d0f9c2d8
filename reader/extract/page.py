"""An HTML page + a site profile (or none) → ``Document``.

Steps: parse; metadata (``meta.py``); body element (profile selector, else
``generic.find_body``); blocks (``blocks.Walker``); line rules (``clean.py``); lead, byline
and caption placement; the "no article body" checks.
"""
from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree

from reader.errors import ExtractError
from reader.extract import byline, generic
from reader.extract.blocks import Block, Walker, parse, select
from reader.extract.clean import (credit_line_author, dedupe, fold_key, has_paywall, is_furniture,
                                  looks_like_text, squash, strip_credit, strip_dateline,
                                  strip_widgets, wire_end)
from reader.extract.meta import PageMeta
from reader.extract.profile import SiteProfile
from reader.models import Article, Caption, Document

GENERIC = SiteProfile(name="generic")
MIN_WORDS = 25  #: fewer body words than this is "no article body"
PAYWALL_WORDS = 150  #: a body this short carrying a paywall phrase is a teaser


def extract_page(article: Article, profile: SiteProfile | None, *, root=None, captions: bool = False) -> Document:
    return read_page(article, profile, root=root, captions=captions)[0]


#: where the paragraphs came from (``read_page``; ``vnreader extract --explain`` prints it)
BODY_PROFILE = "profile body selector"
BODY_GENERIC = "generic path"
BODY_TRAFILATURA = "trafilatura"


def read_page(article: Article, profile: SiteProfile | None, *, root=None,
              captions: bool = False) -> tuple[Document, str]:
    """``extract_page``, and where its paragraphs came from (``BODY_*``)."""
    subject = article.url or article.origin or "page"
    root = _root(article, root, subject)
    prof = profile or GENERIC
    meta = PageMeta(root)
    title = meta.title(prof.title) or (squash(article.title) if article.title else None)

    body, body_from, why = _pick_body(root, profile, prof, subject)
    blocks = Walker(drop=prof.drop, captions=prof.captions).run(body) if body is not None else []
    desc = meta.description()
    lead = _page_lead(meta, root, prof, desc)
    paras, caps, body, body_from, why = _body_lines(article, root, profile, prof, blocks, body, body_from, why)
    # the site changed its markup: the daily run says so once per site (Document.drift)
    drift = f"{why}; {'trafilatura' if body_from == BODY_TRAFILATURA else 'generic extraction'} used" if why else None

    lead = _split_lead(lead, paras, desc)
    credited = _pop_credit_line(paras)
    trailing, source = _pop_byline(paras, prof)
    author = _page_author(meta, prof, credited, trailing, source)

    # a caption shown twice (figcaption, then the same words as a paragraph) is read once, as a caption
    cap_keys = {fold_key(c[0]) for c in caps}
    paras = [(t, b) for t, b in paras if fold_key(t) not in cap_keys]
    kept = _dedupe(paras, drop=(title or "", lead or "", author or ""))
    texts = [t for t, _ in kept]
    caption_list = _place_captions(caps, kept)

    cap_words = sum(len(c.text.split()) for c in caption_list)
    if prof.speak_captions or (caption_list and cap_words > 2 * sum(len(x.split()) for x in texts)):
        # a photo story: the narrative lives in the captions
        texts, caption_list = _captions_as_body(texts, caption_list)
    title = _check_body(texts, title, root, prof, subject)
    if captions:
        texts, caption_list = _captions_as_body(texts, caption_list)
    url = meta.canonical() or article.url
    return Document(title=title, paragraphs=tuple(texts), lead=lead or None, author=author,
                    published=meta.published(prof.published) or article.published,
                    url=url, site=prof.name, section=meta.section(prof.section),
                    image=meta.image() or body_image(body, url), captions=tuple(caption_list), drift=drift), body_from


def _root(article: Article, root, subject: str):
    """The parsed page (``root`` when the caller parsed it already)."""
    try:
        return root if root is not None else parse(article.html or "")
    except (etree.LxmlError, ValueError) as e:
        raise ExtractError(subject, f"the HTML cannot be parsed: {e}") from e


def _pick_body(root, profile: SiteProfile | None, prof: SiteProfile, subject: str):
    """(body element or None, BODY_*, why the profile's selector was not used or None)."""
    body = (select(root, prof.body) or [None])[0]
    if body is not None:
        return body, BODY_PROFILE, None
    why = None
    if profile is not None and prof.body:
        why = "body selector matched nothing"
        if prof.fallback == "none":
            raise ExtractError(subject, f"{prof.name}: {why} (fallback = \"none\")",
                               fix="update the profile's select.body (vnreader extract --explain shows what "
                                   "matches), or set fallback = \"generic\"")
    return generic.find_body(root), BODY_GENERIC, why


def _page_lead(meta: PageMeta, root, prof: SiteProfile, desc: str | None) -> str | None:
    """The sapo: the profile's selector, else the generic guess; None when short or furniture."""
    lead = meta.lead(prof.lead) if prof.lead else None
    if not lead:  # no profile, or its sapo selector no longer matches
        lead = generic.find_lead(root, desc, strict=bool(prof.lead))
    if lead and (len(lead) < 30 or is_furniture(lead)):
        return None
    return lead


def _body_lines(article: Article, root, profile: SiteProfile | None, prof: SiteProfile, blocks: list[Block], body,
                body_from: str, why: str | None):
    """The body's (paragraphs, captions) from its ``blocks``, read generically when the profile's body is a
    stub and through the trafilatura net when the profile asks; with the (body, BODY_*, why) finally used."""
    paras, caps = _lines(blocks, prof)
    if profile is not None and prof.fallback != "none" and _words(paras, caps) < MIN_WORDS:
        # the profile's body selector matched a stub (the site changed its markup): read it generically
        fallback = generic.find_body(root)
        if fallback is not None and fallback is not body:
            if body_from == BODY_PROFILE:
                why = f"body selector matched only {_words(paras, caps)} words"
            body, body_from = fallback, BODY_GENERIC
            paras, caps = _lines(Walker(drop=prof.drop, captions=prof.captions).run(body), prof)
    if prof.fallback == "trafilatura":
        # generic pages, and profiles that ask for the net (those no saved page has verified yet)
        netted = _safety_net(article.html or "", root, paras, caps, prof)
        if netted[0] is not paras:
            body_from = BODY_TRAFILATURA
        paras, caps = netted
    return paras, caps, body, body_from, why


def _split_lead(lead: str | None, paras: list, desc: str | None) -> str | None:
    """The lead, cleaned: the sapo element, else a first paragraph that the page describes as its
    summary (popped from ``paras``); without one the first paragraph loses its dateline."""
    if not lead and paras and desc and _same_start(paras[0][0], desc):
        lead = paras.pop(0)[0]
    if lead:
        return strip_dateline(strip_widgets(lead))
    if paras:
        paras[0] = (strip_dateline(paras[0][0]), paras[0][1])
    return lead


def _pop_credit_line(paras: list) -> str | None:
    """Credit lines: "Bài và ảnh: NGỌC MAI" at the top or the bottom; popped, its name returned."""
    for i in [0, 1, -1, -2, -3]:
        if len(paras) > 2 and -len(paras) <= i < len(paras):
            name = credit_line_author(paras[i][0])
            if name:
                paras.pop(i)
                return name
    return None


def _pop_byline(paras: list, prof: SiteProfile) -> tuple[str | None, str | None]:
    """Byline: trailing short lines ("LÊ HÀ", right-aligned "Đức Hùng", "Theo TTXVN"; ``byline.py``),
    popped unless the profile says ``byline_last = false``; returns (author, source)."""
    if not prof.byline_last:
        return None, None
    tail = byline.trailing([byline.Line(text, right=block.right, prose=block.kind in ("p", "li", "quote"))
                            for text, block in paras])
    del paras[len(paras) - tail.taken:]
    return tail.author, tail.source


def _page_author(meta: PageMeta, prof: SiteProfile, credited: str | None, trailing: str | None,
                 source: str | None) -> str | None:
    """The byline, with the source it was taken from ("LÊ HÀ, TTXVN")."""
    author = meta.author(prof.author) if prof.author else None
    if not author:
        author = meta.author_ld() or credited or trailing or meta.author(())
    return byline.credit(author, source or meta.source(prof.source))


def _check_body(texts: list[str], title: str | None, root, prof: SiteProfile, subject: str) -> str:
    """Refuse a page without an article: too few words, a paywall teaser, no headline; return the headline."""
    words = sum(len(t.split()) for t in texts)
    if words < MIN_WORDS or not any(looks_like_text(t) for t in texts):
        raise ExtractError(subject, f"{prof.name}: no article body (only {words} words of text)")
    if words < PAYWALL_WORDS and has_paywall(" ".join(texts) + " " + squash(root.text_content())[:20000]):
        raise ExtractError(subject, f"{prof.name}: the article is behind a paywall or login",
                           fix="save the page from a logged-in browser and pass the file")
    if not title:
        raise ExtractError(subject, f"{prof.name}: the page has no headline")
    return title


def body_image(body, base: str | None) -> str | None:
    """The first real image in the body (lazy-loaded ones keep the URL in data-src / data-original)."""
    if body is None:
        return None
    for img in body.iter("img"):
        for attr in ("data-src", "data-original", "data-lazy-src", "data-srcset", "srcset", "src"):
            v = (img.get(attr) or "").strip().split(" ")[0]
            if not v or v.startswith("data:"):
                continue
            if v.startswith("//"):
                v = "https:" + v
            elif not v.startswith(("http://", "https://")):
                if not base:
                    continue
                v = urljoin(base, v)
            return v
    return None


def _lines(blocks: list[Block], prof: SiteProfile) -> tuple[list[tuple[str, Block]], list[tuple[str, int, list[Block]]]]:
    """Blocks → (kept paragraphs, captions with the index of the paragraph they follow)."""
    paras: list[tuple[str, Block]] = []
    caps: list[tuple[str, int, list[Block]]] = []
    extra = prof.line_regexes
    order: list[Block] = []  # paragraph blocks in page order, shared by every caption entry
    for b in blocks:
        text = wire_end(strip_widgets(b.text))
        if not text:
            continue
        if b.kind == "caption":
            cap = strip_credit(text)
            if cap and not is_furniture(cap):
                caps.append((cap, len(order) - 1, order))
            continue
        if is_furniture(text) or any(p.match(text) for p in extra):
            continue
        if b.link_share > 0.8 and len(text.split()) < 40 and b.kind in ("p", "li", "h"):
            continue  # a teaser link standing alone
        paras.append((text, b))
        order.append(b)
    return paras, caps


def _words(paras, caps) -> int:
    return sum(len(t.split()) for t, _ in paras) + sum(len(c[0].split()) for c in caps)


def _safety_net(html, root, paras, caps, prof):
    """Generic pages: if trafilatura finds clearly more words than the DOM walk, use its text (less
    any line that is a whole link on the page: teasers)."""
    mine = _words(paras, caps)
    links = {fold_key(a.text_content()) for a in root.iter("a")}
    dropped = " ".join(fold_key(e.text_content()) for e in select(root, prof.drop, first=False, every=True))
    theirs_blocks = [b for b in generic.trafilatura_paragraphs(html)
                     if fold_key(b.text) not in links and not (dropped and fold_key(b.text) in dropped)]
    theirs = sum(len(b.text.split()) for b in theirs_blocks)
    if theirs > max(2 * MIN_WORDS, mine * 1.5):
        new, _ = _lines(theirs_blocks, prof)
        return new, []
    return paras, caps


def _same_start(text: str, desc: str) -> bool:
    a, b = fold_key(text), fold_key(strip_dateline(desc))
    n = min(len(a), len(b), 80)
    return n >= 30 and a[:n] == b[:n]


def _dedupe(paras: list[tuple[str, Block]], drop: tuple[str, ...]) -> list[tuple[str, Block]]:
    """``clean.dedupe`` on (text, block) pairs: the blocks are kept to place captions."""
    keep = set(map(fold_key, dedupe([strip_dateline(t) for t, _ in paras], drop=drop)))
    out: list[tuple[str, Block]] = []
    for t, b in paras:
        k = fold_key(strip_dateline(t))
        if k in keep and not (out and fold_key(out[-1][0]) == k):
            out.append((t, b))
    return out


def _place_captions(caps: list[tuple[str, int, list[Block]]], kept: list[tuple[str, Block]]) -> list[Caption]:
    """Captions once each (a repeated caption, or one equal to a paragraph, is dropped), each placed
    after the last kept paragraph that came before it on the page."""
    out: list[Caption] = []
    seen = {fold_key(t) for t, _ in kept}
    order = {id(b): i for i, (_, b) in enumerate(kept)}
    for text, anchor_pos, all_blocks in caps:
        k = fold_key(text)
        if k in seen:
            continue
        seen.add(k)
        after = -1
        for b in reversed(all_blocks[:anchor_pos + 1]):
            if id(b) in order:
                after = order[id(b)]
                break
        out.append(Caption(text=text, after=after))
    return out


def _captions_as_body(texts: list[str], caps: list[Caption]) -> tuple[list[str], list[Caption]]:
    """Each caption once, right after its paragraph; the Document then carries no separate captions."""
    out: list[str] = []
    by_after: dict[int, list[str]] = {}
    for c in caps:
        by_after.setdefault(c.after, []).append(c.text)
    out.extend(by_after.get(-1, []))
    for i, t in enumerate(texts):
        out.append(t)
        out.extend(by_after.get(i, []))
    return out, []

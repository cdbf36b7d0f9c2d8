"""Why a page was read as it was: ``vnreader extract --explain SOURCE``.

Which profile was picked and by what, how many nodes each of its selectors matches on the
page (title, lead, body, author, source, published, section, drop, captions), and where the
paragraphs came from: the profile's body selector, the generic path, or trafilatura (and the
profile's ``fallback`` key, which allows those). A site
that changed its markup shows up as a body selector matching 0 nodes.
"""
from __future__ import annotations

from dataclasses import dataclass

from reader.errors import ExtractError, ReaderError
from reader.extract import pick_profile_why
from reader.extract.blocks import parse, select
from reader.extract.page import GENERIC, read_page
from reader.extract.profile import SELECTOR_KEYS, SiteProfile, load_profiles
from reader.models import Article, Document


@dataclass(frozen=True)
class SelectorCount:
    key: str  #: explain; profile key ("body")
    selector: str  #: explain; one CSS selector of that key
    nodes: int  #: explain; elements it matches on the whole page


@dataclass(frozen=True)
class Explanation:
    """What ``extract`` did with one page."""

    profile: str  #: explain; profile name, "generic" when none matched, "text" for plain text
    picked_by: str  #: explain; in words: "picked by the URL's host dantri.com.vn", "no profile matches …"
    selectors: tuple[SelectorCount, ...] = ()  #: explain; every selector of the profile, in key order
    body: str = ""  #: explain; where the paragraphs came from (page.BODY_*), "" when not read
    fallback: str = ""  #: explain; the profile's ``fallback`` key ("trafilatura" for the generic path)
    document: Document | None = None  #: explain; the result, None when extraction failed
    error: ReaderError | None = None  #: explain; why extraction failed (the CLI reports it)


def explain(article: Article, *, profiles: tuple[SiteProfile, ...] | None = None) -> Explanation:
    """Extract ``article`` as ``extract`` would, recording the choices made on the way."""
    if not (article.html and article.html.strip()):
        from reader.extract import extract

        try:
            return Explanation("text", "plain text input: no profile applies", document=extract(article),
                               body="plain-text rules")
        except ExtractError as e:
            return Explanation("text", "plain text input: no profile applies", error=e)
    root = parse(article.html)
    registry = load_profiles() if profiles is None else profiles
    profile, why = pick_profile_why(article, root, registry)
    counts = tuple(SelectorCount(key, s, len(select(root, (s,), first=False)))
                   for key in SELECTOR_KEYS for s in (getattr(profile, key) if profile else ()))
    name, fallback = (profile.name, profile.fallback) if profile else ("generic", GENERIC.fallback)
    try:
        doc, body = read_page(article, profile, root=root)
    except ReaderError as e:
        return Explanation(name, why, counts, fallback=fallback, error=e)
    return Explanation(name, why, counts, body=body, fallback=fallback, document=doc)


def explain_lines(x: Explanation) -> list[str]:
    """The explanation as the CLI prints it."""
    out = [f"profile: {x.profile} ({x.picked_by})"]
    if x.fallback:
        out.append(f"fallback: {x.fallback}")
    if x.selectors:
        out.append("selectors (nodes matched on the page):")
        width = max(len(c.selector) for c in x.selectors)
        last = None
        for c in x.selectors:
            out.append(f"  {c.key if c.key != last else '':<10} {c.selector:<{width}}  {c.nodes}")
            last = c.key
    elif x.profile == "generic":
        out.append("selectors: none (generic path)")
    doc = x.document
    if doc is not None:
        body = x.body + (f" ({doc.drift})" if doc.drift else "")
        out.append(f"body: {body}")
        out.append(f"read: {len(doc.paragraphs)} paragraphs, {sum(len(p.split()) for p in doc.paragraphs)} words; "
                   f"lead {'yes' if doc.lead else 'no'}; author {doc.author or '-'}")
    else:
        out.append("body: not read (see the error)")
    return out

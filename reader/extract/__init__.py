"""Extract: ``Article`` → ``Document`` (clean text a listener hears, and its metadata).

    extract(article, *, captions=False) -> Document

The profile is the first in ``PROFILES`` (``feeds/sites/*.toml``, file-name order) whose
hosts match the article URL; for a page without a URL (a saved file, stdin) the page's
canonical link / og:url host, then its og:site_name, pick it. No match → the generic path.
Plain text goes through ``plaintext.py``. Captions are kept apart in
``Document.captions``; ``captions=True`` puts each one, once, after its paragraph (and then
``Document.captions`` is empty so nothing is read twice).
"""
from __future__ import annotations

from reader.errors import ExtractError
from reader.extract.blocks import parse
from reader.extract.clean import fold_key
from reader.extract.meta import PageMeta
from reader.extract.page import GENERIC, extract_page
from reader.extract.plaintext import extract_text
from reader.extract.profile import SiteProfile, SiteTest, host_of, load_profiles
from reader.models import Article, Document

__all__ = ["extract", "pick_profile", "pick_profile_why", "load_profiles", "SiteProfile", "SiteTest", "GENERIC"]


def extract(article: Article, *, captions: bool = False, profiles: tuple[SiteProfile, ...] | None = None,
            site: str | None = None) -> Document:
    """Clean text and metadata of one article. Raises ``ExtractError`` when there is no body.

    ``profiles`` replaces the registry (tests, operators' folders); ``site`` names the profile to
    use when neither the URL nor the page picks one (a feed's ``site`` setting).
    """
    subject = article.url or article.origin or "input"
    if article.html and article.html.strip():
        root = parse(article.html)
        registry = load_profiles() if profiles is None else profiles
        profile = pick_profile(article, root, registry)
        if profile is None and site:
            profile = next((p for p in registry if p.name == site), None)
        return extract_page(article, profile, root=root, captions=captions)
    if article.text and article.text.strip():
        return extract_text(article.text, url=article.url, title_hint=article.title, captions=captions,
                            subject=subject)
    raise ExtractError(subject, "the input is empty", fix="give a page or some text")


def pick_profile(article: Article, root, profiles: tuple[SiteProfile, ...]) -> SiteProfile | None:
    """First profile whose hosts match the URL; else the page's own canonical / og:url host; else
    its og:site_name. None = generic."""
    return pick_profile_why(article, root, profiles)[0]


def pick_profile_why(article: Article, root, profiles: tuple[SiteProfile, ...]) -> tuple[SiteProfile | None, str]:
    """``pick_profile``, and in words what picked it (``vnreader extract --explain``)."""
    host = host_of(article.url)
    for p in profiles:
        if p.matches_host(host):
            return p, f"picked by the URL's host {host}"
    meta = PageMeta(root)
    page_host = host_of(meta.canonical())
    for p in profiles:
        if p.matches_host(page_host):
            return p, f"picked by the page's canonical link / og:url host {page_host}"
    name = meta.site_name()
    if name:
        key = fold_key(name)
        for p in profiles:
            if key in {fold_key(n) for n in p.site_names}:
                return p, f"picked by the page's og:site_name {name!r}"
    seen = host or page_host
    return None, f"no profile matches {'host ' + seen if seen else 'this page'}; {len(profiles)} profiles loaded"

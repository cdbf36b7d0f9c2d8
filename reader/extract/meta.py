"""Page metadata: title, lead, author, published time, section, canonical URL, lead image.

Sources in order of trust: the site profile's selectors, then JSON-LD (NewsArticle),
then ``<meta>`` tags (Open Graph, article:*), then visible page parts (``<h1>``, a
dateline "19/7/2026, 22:35"). Every reader here returns None rather than guess.
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone

from reader.extract.blocks import BR, inline_text, select
from reader.extract.clean import fold_key, source_class, squash, tidy_author

VN_TZ = timezone(timedelta(hours=7))
_ORG_HINT = re.compile(r"\.(vn|com|net|org)\b|^báo\b|corp|media|jsc|tòa soạn|ban biên tập|news$", re.I)
_HOME = {"trang chủ", "home", "trang chu"}


class PageMeta:
    """Lazy accessors over one parsed page."""

    def __init__(self, root):
        self.root = root
        self._ld = None

    # ------------------------------------------------------------ raw sources
    def meta(self, *names: str) -> str | None:
        for name in names:
            for el in self.root.iter("meta"):
                if (el.get("property") or el.get("name") or el.get("itemprop") or "").lower() == name:
                    v = squash(el.get("content") or "")
                    if v:
                        return v
        return None

    def link(self, rel: str) -> str | None:
        for el in self.root.iter("link"):
            if (el.get("rel") or "").lower() == rel and el.get("href"):
                return el.get("href").strip()
        return None

    @property
    def jsonld(self) -> list[dict]:
        """Every JSON-LD object on the page (``@graph`` flattened)."""
        if self._ld is None:
            out: list[dict] = []
            for s in self.root.iter("script"):
                if (s.get("type") or "").lower() != "application/ld+json" or not s.text:
                    continue
                try:
                    data = json.loads(s.text.strip().rstrip(";"), strict=False)
                except ValueError:
                    continue
                stack = data if isinstance(data, list) else [data]
                for item in stack:
                    if isinstance(item, dict):
                        out.append(item)
                        out.extend(x for x in item.get("@graph", []) if isinstance(x, dict))
            self._ld = out
        return self._ld

    def ld_article(self) -> dict | None:
        for item in self.jsonld:
            t = item.get("@type")
            types = t if isinstance(t, list) else [t]
            if any(x in ("NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "LiveBlogPosting",
                         "AnalysisNewsArticle") for x in types):
                return item
        return None

    # ------------------------------------------------------------ fields
    def title(self, selectors=()) -> str | None:
        for el in select(self.root, selectors):
            t = squash(el.text_content())
            if t:
                return t
        art = self.ld_article() or {}
        ld = squash(str(art.get("headline") or "")) or None
        og = self.meta("og:title", "twitter:title")
        doc_title = squash(self.root.findtext(".//title") or "") or None
        h1s = [squash(h.text_content()) for h in self.root.iter("h1")]
        h1s = [h for h in h1s if h]
        for h in h1s:
            k = fold_key(h)
            if len(k) >= 10 and any(c and (fold_key(c) == k or fold_key(c).startswith(k)) for c in (ld, og, doc_title)):
                return h
        headlines = [h for h in h1s if len(h.split()) >= 3]
        if len(headlines) == 1:  # the page's one real <h1> is what readers see as the headline
            return headlines[0]
        if ld:
            return ld
        if og:
            return strip_site_suffix(og)
        if h1s:
            return h1s[0]
        return strip_site_suffix(doc_title) if doc_title else None

    def lead(self, selectors=()) -> str | None:
        for el in select(self.root, selectors):
            t = squash(inline_text(el).replace(BR, " "))
            if t:
                return t
        return None

    def description(self) -> str | None:
        return self.meta("description", "og:description", "twitter:description")

    def author(self, selectors=()) -> str | None:
        """The profile's selector (every name it matches, see ``join_names``), else JSON-LD, else a
        visible author-classed element."""
        name = join_names(select(self.root, selectors, first=False))
        if name:
            return name
        name = self.author_ld()
        if name:
            return name
        return self.author_visible()

    def author_ld(self) -> str | None:
        """Person names in the JSON-LD article's ``author`` (organisations are not bylines)."""
        art = self.ld_article() or {}
        names = []
        for a in _as_list(art.get("author")):
            name = a.get("name") if isinstance(a, dict) else a
            if isinstance(name, str) and (not isinstance(a, dict) or a.get("@type", "Person") == "Person"):
                names.append(squash(html.unescape(name)))  # CMSes write "Nguy&#7877;n" inside the JSON
        names = [n for n in names if n and not _ORG_HINT.search(n) and fold_key(n) not in self._site_keys()]
        return tidy_author(", ".join(names)) if names else None

    def author_visible(self) -> str | None:
        """An element classed author/byline, else ``<meta name=author>`` when it names a person."""
        for el in self.root.iter():
            if not isinstance(el.tag, str):
                continue
            cls = (el.get("class") or "") + " " + (el.get("itemprop") or "") + " " + (el.get("rel") or "")
            if re.search(r"(^|[\s_-])(author|byline|tac-?gia)([\s_-]|$)", cls, re.I):
                t = tidy_author(el.text_content())
                if t and len(t) <= 60 and not _ORG_HINT.search(t):
                    return t
        name = self.meta("author", "article:author")
        if name and not _ORG_HINT.search(name) and fold_key(name) not in self._site_keys() and "://" not in name:
            return tidy_author(name)
        return None

    def source(self, selectors=()) -> str | None:
        """The outlet the article is credited to by a source box outside the body ("Theo
        <span class=link-source-text-name>Tiền Phong</span>"): the profile's ``source``
        selectors, else an element classed as in ``data/source_classes.txt``. Never the page's
        own site name."""
        found = list(select(self.root, selectors))
        if not found:
            pattern = source_class()
            found = [el for el in self.root.iter() if isinstance(el.tag, str)
                     and any(pattern.fullmatch(c) for c in (el.get("class") or "").split())][:1]
        for el in found:
            name = tidy_author(el.text_content())
            if name and len(name.split()) <= 8 and "://" not in name and fold_key(name) not in self._site_keys():
                return name
        return None

    def _site_keys(self) -> set[str]:
        keys = set()
        for v in (self.meta("og:site_name"), self.meta("author")):
            if v:
                keys.add(fold_key(v))
        return keys

    def published(self, selectors=()) -> datetime | None:
        """Machine-readable dates first (JSON-LD, meta tags), then the profile's selectors, then <time>."""
        art = self.ld_article() or {}
        for v in (art.get("datePublished"), self.meta("article:published_time", "pubdate", "datepublished",
                                                         "og:article:published_time", "date", "dc.date.issued")):
            d = parse_date(v)
            if d:
                return d
        for el in select(self.root, selectors):
            for v in (el.get("datetime"), el.get("content"), el.get("data-time"), el.text_content()):
                d = parse_date(v)
                if d:
                    return d
        for el in self.root.iter("time"):
            d = parse_date(el.get("datetime")) or parse_date(el.text_content())
            if d:
                return d
        for el in self.root.iter("span", "div", "p"):  # a visible dateline: <span class="date">19/7/2026, 22:35</span>
            if _DATE_CLASS.search(el.get("class") or ""):
                text = el.text_content()
                d = parse_date(text) if len(text) < 100 else None
                if d:
                    return d
        return None

    def section(self, selectors=()) -> str | None:
        for el in select(self.root, selectors):
            t = squash(el.text_content())
            if t and fold_key(t) not in _HOME:
                return t
        for item in self.jsonld:
            if item.get("@type") == "BreadcrumbList":
                for li in sorted(_as_list(item.get("itemListElement")), key=lambda x: x.get("position", 0)
                                 if isinstance(x, dict) else 0):
                    if not isinstance(li, dict):
                        continue
                    it = li.get("item")
                    name = li.get("name") or (it.get("name") if isinstance(it, dict) else None)
                    if name and fold_key(name) not in _HOME:
                        return squash(name)
        sec = self.meta("article:section")
        if sec:
            return squash(sec.split(",")[0])
        return None

    def canonical(self) -> str | None:
        for v in (self.link("canonical"), self.meta("og:url")):
            if v and v.startswith(("http://", "https://")):
                return v
        return None

    def image(self) -> str | None:
        v = self.meta("og:image", "twitter:image", "og:image:url")
        if v and v.startswith(("http://", "https://", "//")):
            return "https:" + v if v.startswith("//") else v
        art = self.ld_article() or {}
        img = art.get("image")
        for x in _as_list(img):
            url = x.get("url") if isinstance(x, dict) else x
            if isinstance(url, str) and url.startswith("http"):
                return url
        return None

    def site_name(self) -> str | None:
        return self.meta("og:site_name", "application-name")


#: what may stand between two names on a byline: "Minh Anh - Hoàng Lan", "A, B", "A & B", "A và B"
_NAME_SEP = re.compile(r"^\s*([,;&/–—-]|và)?\s*$")
_SHORT_BYLINE = 200  #: characters: names further apart than this are not one byline (teaser cards)


def join_names(els) -> str | None:
    """Every author an author selector matched, joined as the page shows them.

    A selector that matches each name (``div.author-name`` twice) used to give only the first.
    Repeats (a header and a footer byline) count once. Names are joined with the separator the
    page prints between them ("Minh Anh - Hoàng Lan"), else ", " (names in separate blocks).
    Risk: a selector that also matches teaser cards' authors; names whose nearest common
    element holds more than a short byline's text are therefore not joined (the first wins).
    """
    found: list[tuple[str, object]] = []
    for el in els:
        t = tidy_author(el.text_content())
        if t and fold_key(t) not in {fold_key(n) for n, _ in found}:
            found.append((t, el))
    if len(found) < 2:
        return found[0][0] if found else None
    shared = _common_ancestor([el for _, el in found])
    text = squash(shared.text_content()) if shared is not None else ""
    if not text or len(text) > _SHORT_BYLINE:
        return found[0][0]
    out, pos = found[0][0], text.find(found[0][0])
    for (prev, _), (name, _) in zip(found, found[1:]):
        start = text.find(name, pos + len(prev)) if pos >= 0 else -1
        between = text[pos + len(prev):start] if start >= 0 else ""
        sep = between.strip() if start >= 0 and _NAME_SEP.match(between) else ","
        out += ", " if sep in ("", ",") else f" {sep} "
        out += name
        pos = start
    return out


def _common_ancestor(els):
    chains = [[el, *el.iterancestors()] for el in els]
    others = [set(map(id, c)) for c in chains[1:]]
    for a in chains[0]:
        if all(id(a) in o for o in others):
            return a
    return None


def _as_list(v) -> list:
    """A JSON-LD value as a flat list (some sites nest lists: ``[[{...}], [{...}]]``)."""
    if v is None:
        return []
    if not isinstance(v, list):
        return [v]
    out = []
    for x in v:
        out.extend(_as_list(x) if isinstance(x, list) else [x])
    return out


def strip_site_suffix(title: str) -> str:
    """"Headline - VnExpress" → "Headline" (the last " - " / " | " part, when short)."""
    m = re.match(r"^(.{15,}?)\s+[-|–—]\s+[^-|–—]{2,40}$", title)
    return m.group(1).strip() if m else title


_DATE_CLASS = re.compile(r"date|time|publish|ngay-?dang", re.I)
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\D{1,6}(\d{1,2})[:hg](\d{2}))?")
_HM_DMY = re.compile(r"(\d{1,2})[:hg](\d{2})\D{1,12}(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def parse_date(value) -> datetime | None:
    """ISO 8601 (JSON-LD, meta tags) or a Vietnamese dateline "19/7/2026, 22:35"; naive times are
    taken as Vietnam time (UTC+7)."""
    if not value or not isinstance(value, str):
        return None
    v = value.strip()
    try:
        # "2026-07-19T14:30:00.000 +07:00" (a space before the offset, as some CMSes write it)
        iso = re.sub(r"(\d)\s+([+-]\d{2}:?\d{2})$", r"\1\2", v.replace("Z", "+00:00"))
        d = datetime.fromisoformat(iso)
        return d if d.tzinfo else d.replace(tzinfo=VN_TZ)
    except ValueError:
        pass
    m = _HM_DMY.search(v)
    try:
        if m:
            hh, mm, dd, mo, yy = map(int, m.groups())
            return datetime(yy, mo, dd, hh, mm, tzinfo=VN_TZ)
        m = _DMY.search(v)
        if m:
            dd, mo, yy = int(m.group(1)), int(m.group(2)), int(m.group(3))
            hh, mm = int(m.group(4) or 0), int(m.group(5) or 0)
            return datetime(yy, mo, dd, hh, mm, tzinfo=VN_TZ)
    except ValueError:
        return None
    return None

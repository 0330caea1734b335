"""A loopback farm of news feeds in the web's shapes, served from a separate process, for the ingest bench.

Feeds are spread over many loopback addresses (127.0.0.2, 127.0.0.3, …) so per-host limits behave as
they would against many news sites. Every feed has a stable ETag and Last-Modified, so a second cycle
is all 304s. Everything is deterministic: feed `i` is the same bytes in every run and for both sides.

The mix (`farm_feed(i)`): shares of every 20 consecutive feeds, so 1,000 feeds hold exactly these.
"fast" is feedparser-rs (bot/core/feedparse_fast.py), "fp" feedparser, "json" bot/core/jsonfeed.py:

| shape          | share | stands for                                                             | newsbot |
|----------------|-------|------------------------------------------------------------------------|---------|
| `wp_full`      | 35%   | WordPress RSS 2.0, "full text" (its default): excerpt + content:encoded | fast    |
| `wp_excerpt`   | 15%   | WordPress RSS 2.0 set to "excerpt": no content:encoded                 | fast    |
| `rss_news`     | 10%   | a newsroom CMS's RSS 2.0 (BBC, NYT): a one- or two-sentence description | fast    |
| `rss_dcdate`   | 10%   | RSS 2.0 with dc:date beside pubDate (the Guardian): escaped-HTML deks   | fp      |
| `rss_fulltext` | 5%    | Substack/Ghost RSS 2.0: a short subtitle, the post in content:encoded  | fast    |
| `atom_full`    | 10%   | Atom 1.0 with only `<content type="html">` (Blogger, Reddit, CMSs)     | fp      |
| `atom_summary` | 5%    | Atom 1.0 with only `<summary>`; html and xhtml titles (news alerts)    | fp      |
| `atom_both`    | 5%    | Atom 1.0 with summary, content and xml:base (jekyll-feed and friends)  | fp      |
| `json`         | 5%    | JSON Feed 1.1: content_html, most items with a summary                 | json    |

Why these shares: WordPress runs about 43% of all sites and more of the long tail of local and niche
news, and its default feed is full text, so WordPress is half the mix, most of it full text. The big
newsrooms run their own CMSs, nearly all serving RSS 2.0 with short descriptions and no body (some with
Dublin Core dates), and newsletters serve RSS with the whole post: a quarter. Atom is Blogger's,
Reddit's, YouTube's, GitHub's and most static site generators' format, and a minority of news sites':
a fifth. JSON Feed exists (Micro.blog, some static sites) but is rare: 5% is generous. Sizes are drawn
per feed whatever its shape: 10 items (WordPress's default) 30%, 20 or 30 items 35%, 50 items 20%, 100
items 15%, so the farm has 10-item feeds of 8-55 KiB and 100-item feeds of 70-480 KiB (330 on
average); bodies, descriptions and headlines vary item by item. Words are drawn from 3,000 made-up
words with a Zipf distribution, so search indexes see something like prose. Every entry has a summary
or a body: nothing here sends newsbot to the article pages (reader never goes there).

`make_feed(i)` is the farm's old single shape (WordPress, 40 items of 3.7 KB, content:encoded), kept byte
for byte: tests/core/test_feedparse_fastpath.py holds the fast path to feedparser on it.
"""

from __future__ import annotations

import asyncio
import functools
import html
import itertools
import json
import multiprocessing
import multiprocessing.synchronize
import random
import socket
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing.connection import Connection
from typing import Any

from aiohttp import web

HOSTS = 25
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RSS_TYPE = "application/rss+xml; charset=UTF-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_TYPE = "application/feed+json"
WORDS = (
    "council",
    "budget",
    "river",
    "storm",
    "election",
    "minister",
    "school",
    "hospital",
    "market",
    "energy",
    "transport",
    "harbour",
    "football",
    "museum",
    "court",
    "police",
    "festival",
    "climate",
    "housing",
    "water",
    "rail",
    "airport",
    "union",
    "farmers",
    "bank",
    "report",
    "inquiry",
    "vote",
    "mayor",
    "science",
    "health",
    "research",
    "city",
    "county",
    "village",
    "coast",
)


# -- the old single shape (make_feed), kept byte for byte --------------------------------------------------


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def make_feed(index: int, items: int = 40, now: datetime | None = None) -> bytes:
    """One WordPress RSS 2.0 feed of about 150 KB with content:encoded, deterministic per index."""
    rng = random.Random(index)
    now = now or datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    site = f"https://site{index}.example"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">\n'
        f"<channel><title>Site {index} News</title><link>{site}/</link>"
        f"<description>News from site {index}</description><language>en-GB</language>"
        "<generator>https://wordpress.org/?v=6.6</generator>\n"
    ]
    for j in range(items):
        published = now - timedelta(minutes=37 * j + index % 30)
        title = _sentence(rng, 9)[:-1]
        dek = " ".join(_sentence(rng, 14) for _ in range(3))
        body = "".join(f"<p>{' '.join(_sentence(rng, 16) for _ in range(4))}</p>\n" for _ in range(6))
        slug = "-".join(title.lower().split()[:6])
        cats = "".join(f"<category><![CDATA[{c}]]></category>" for c in rng.sample(WORDS, 3))
        parts.append(
            f"<item><title>{title} &#8216;{j}&#8217;</title>"
            f"<link>{site}/{published:%Y/%m/%d}/{slug}-{j}/</link>"
            f"<dc:creator><![CDATA[Reporter {j % 7}]]></dc:creator>"
            f"<pubDate>{format_datetime(published)}</pubDate>{cats}"
            f'<guid isPermaLink="false">{site}/?p={index * 1000 + j}</guid>'
            f'<description><![CDATA[<p>{dek} [&hellip;]</p>\n<p>The post <a href="{site}/{slug}">{title}</a>'
            f' appeared first on <a href="{site}">Site {index} News</a>.</p>]]></description>'
            f'<content:encoded><![CDATA[{body}<figure><img src="{site}/img/{j}.jpg" alt=""/></figure>]]>'
            "</content:encoded>"
            f'<media:content url="{site}/img/{j}.jpg" medium="image" width="1200" height="800"/>'
            "</item>\n"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


# -- the mix -------------------------------------------------------------------------------------------

# One feed in twenty of each 5%; interleaved so that a toy farm of a few feeds already has several shapes.
_SLOTS = (
    "wp_full", "atom_full", "rss_news", "json", "wp_excerpt",
    "rss_dcdate", "wp_full", "atom_summary", "rss_fulltext", "wp_full",
    "wp_excerpt", "atom_both", "wp_full", "rss_news", "atom_full",
    "wp_full", "rss_dcdate", "wp_excerpt", "wp_full", "wp_full",
)  # fmt: skip
SHAPES = (  # in the order of the module's table
    "wp_full", "wp_excerpt", "rss_news", "rss_dcdate", "rss_fulltext",
    "atom_full", "atom_summary", "atom_both", "json",
)  # fmt: skip
assert set(SHAPES) == set(_SLOTS)
_CONTENT_TYPES = {shape: ATOM_TYPE if shape.startswith("atom") else RSS_TYPE for shape in SHAPES}
_CONTENT_TYPES["json"] = JSON_TYPE
_ITEM_COUNTS = ((10, 30), (20, 20), (30, 15), (50, 20), (100, 15))  # (items, % of feeds)
_SYLLABLES = (
    "an", "ber", "cal", "dor", "en", "fal", "gan", "har", "is", "jen", "kol", "lan", "mor", "nel",
    "or", "pen", "quin", "ros", "sel", "tor", "ul", "ven", "wick", "yar", "zel", "ton", "ley", "ing",
)  # fmt: skip


@functools.cache
def _vocabulary() -> tuple[tuple[str, ...], list[float]]:
    """About 3,000 words, the farm's old 36 first, with Zipf cumulative weights (rank r: 1/r)."""
    rng = random.Random("farm-vocabulary")
    words = dict.fromkeys(WORDS)
    while len(words) < 3000:
        words.setdefault("".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4)))))
    return tuple(words), list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))


def _words(rng: random.Random, n: int) -> list[str]:
    vocabulary, weights = _vocabulary()
    return rng.choices(vocabulary, cum_weights=weights, k=n)


def _text(rng: random.Random, low: int, high: int) -> str:
    """One sentence of `low`..`high` words."""
    words = _words(rng, rng.randint(low, high))
    if rng.random() < 0.15:
        words[rng.randrange(len(words))] += ","
    return " ".join(words).capitalize() + "."


def _prose(rng: random.Random, sentences: int) -> str:
    return " ".join(_text(rng, 8, 26) for _ in range(sentences))


def _headline(rng: random.Random) -> str:
    words = _words(rng, rng.randint(5, 14))
    words = [w.capitalize() if rng.random() < 0.2 else w for w in words]
    return " ".join(words).capitalize()


def _body(rng: random.Random, site: str, j: int) -> str:
    """An article's HTML: paragraphs, a figure, now and then a subheading, a list or a link."""
    parts = []
    for k in range(rng.randint(3, 8)):
        paragraph = _prose(rng, rng.randint(2, 4))
        if rng.random() < 0.3:
            words = paragraph.split(" ")
            at = rng.randrange(len(words) - 1)
            words[at] = f'<a href="{site}/{"-".join(_words(rng, 3))}/">{words[at]}</a>'
            paragraph = " ".join(words)
        parts.append(f"<p>{paragraph}</p>\n")
        if k == 1:
            parts.append(
                f'<figure class="wp-block-image size-large"><img loading="lazy" width="1024" height="576" '
                f'src="{site}/wp-content/uploads/2026/11/photo-{j}-1024x576.jpg" alt="{_text(rng, 3, 8)}"/>'
                f"<figcaption>{_text(rng, 6, 14)}</figcaption></figure>\n"
            )
        elif k == 3 and rng.random() < 0.3:
            parts.append(f"<h2>{_headline(rng)}</h2>\n")
        elif k == 4 and rng.random() < 0.2:
            parts.append("<ul>" + "".join(f"<li>{_text(rng, 4, 12)}</li>" for _ in range(3)) + "</ul>\n")
    return "".join(parts)


def _excerpt(rng: random.Random, words: int = 55) -> str:
    """WordPress's automatic excerpt: the first 55 words, then `[&#8230;]`."""
    return " ".join(_prose(rng, 6).split(" ")[:words]).rstrip(".,") + " [&#8230;]"


def _slug(title: str) -> str:
    return "-".join(title.lower().split()[:7])


def _categories(rng: random.Random, low: int, high: int) -> list[str]:
    return [w.capitalize() for w in rng.sample(_vocabulary()[0][:200], rng.randint(low, high))]


def _dates(rng: random.Random, index: int, items: int, now: datetime) -> list[datetime]:
    """Newest first: a busy site every few minutes, a quiet one every few hours."""
    pace = rng.choice((7, 15, 30, 60, 180, 600))
    start = now - timedelta(minutes=index % 30)
    return [start - timedelta(minutes=pace * j + rng.randint(0, pace // 2)) for j in range(items)]


def _wordpress(rng: random.Random, index: int, items: int, now: datetime, *, full: bool) -> bytes:
    """WordPress 6.x's /feed/ (with Yoast's "appeared first on" line), full text or excerpt."""
    site = f"https://site{index}.example"
    name = f"{_headline(rng)[:30].strip()} {index}"
    dates = _dates(rng, index, items, now)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n'
        '\txmlns:media="http://search.yahoo.com/mrss/"\n\t>\n\n<channel>\n'
        f"\t<title>{name}</title>\n"
        f'\t<atom:link href="{site}/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{site}</link>\n\t<description>{_text(rng, 4, 9)[:-1]}</description>\n"
        f"\t<lastBuildDate>{format_datetime(dates[0])}</lastBuildDate>\n\t<language>en-GB</language>\n"
        "\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
        "\t<generator>https://wordpress.org/?v=6.6.2</generator>\n"
        f"<image>\n\t<url>{site}/wp-content/uploads/2024/01/cropped-icon-32x32.png</url>\n\t<title>{name}</title>\n"
        f"\t<link>{site}</link>\n\t<width>32</width>\n\t<height>32</height>\n</image> \n"
    ]
    media = rng.random() < 0.5  # a plugin (or the theme) adds the featured image
    for j, published in enumerate(dates):
        title = _headline(rng)
        if rng.random() < 0.3:
            title = f"{title}: &#8220;{_text(rng, 3, 7)[:-1]}&#8221;"
        if rng.random() < 0.2:
            title = title.replace(" ", " &#8216;", 1) + "&#8217;"
        link = f"{site}/{published:%Y/%m/%d}/{_slug(title.replace('&#', ''))}/"
        cats = "".join(f"\t\t<category><![CDATA[{c}]]></category>\n" for c in _categories(rng, 1, 4))
        parts.append(
            f"\t<item>\n\t\t<title>{title}</title>\n\t\t<link>{link}</link>\n"
            f"\t\t<comments>{link}#respond</comments>\n"
            f"\t\t<dc:creator><![CDATA[{_headline(rng)[:18].strip().title()}]]></dc:creator>\n"
            f"\t\t<pubDate>{format_datetime(published)}</pubDate>\n{cats}"
            f'\t\t<guid isPermaLink="false">{site}/?p={index * 1000 + j}</guid>\n'
            f'\t\t<description><![CDATA[<p>{_excerpt(rng)}</p>\n<p>The post <a href="{link}">{title}</a> '
            f'appeared first on <a href="{site}">{name}</a>.</p>\n]]></description>\n'
        )
        if full:
            parts.append(
                f"\t\t\t\t\t\t\t\t\t\t<content:encoded><![CDATA[{_body(rng, site, j)}]]></content:encoded>\n"
            )
        parts.append(
            f"\t\t\t\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
            f"\t\t\t<slash:comments>{rng.randint(0, 12)}</slash:comments>\n"
        )
        if media:
            parts.append(
                f'\t\t<media:content url="{site}/wp-content/uploads/2026/11/photo-{j}.jpg" medium="image" '
                'width="1200" height="800"/>\n'
            )
        parts.append("\t</item>\n")
    parts.append("\t</channel>\n</rss>\n")
    return "".join(parts).encode()


def _rss_news(rng: random.Random, index: int, items: int, now: datetime) -> bytes:
    """A newsroom's RSS 2.0: CDATA title and one- or two-sentence description, thumbnail, no body."""
    site = f"https://news{index}.example"
    name = f"{_headline(rng)[:24].strip()} News {index}"
    nyt = rng.random() < 0.5  # the NYT's flavour: bylines, section categories, media:content with credit
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
        f"<title><![CDATA[{name}]]></title><description><![CDATA[{_text(rng, 6, 12)}]]></description>"
        f"<link>{site}/news</link><image><url>{site}/logo.png</url><title>{name}</title>"
        f"<link>{site}/news</link></image><generator>RSS for Node</generator>"
        f"<lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate>"
        f'<atom:link href="{site}/news/rss.xml" rel="self" type="application/rss+xml"/>'
        f"<copyright><![CDATA[Copyright: (C) {name}]]></copyright><language><![CDATA[en-gb]]></language>"
        "<ttl>15</ttl>\n"
    ]
    for j, published in enumerate(_dates(rng, index, items, now)):
        title = _headline(rng)
        link = f"{site}/news/articles/{_slug(title)}-{index}x{j}"
        parts.append(
            f"<item><title><![CDATA[{title}]]></title>"
            f"<description><![CDATA[{_prose(rng, rng.choice((1, 1, 2)))}]]></description>"
            f'<link>{link}</link><guid isPermaLink="{str(nyt).lower()}">{link}{"" if nyt else "#0"}</guid>'
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
        )
        if nyt:
            parts.append(
                f"<dc:creator>{_headline(rng)[:20].strip().title()}</dc:creator>"
                + "".join(
                    f'<category domain="http://www.nytimes.com/namespaces/keywords/des">{c}</category>'
                    for c in _categories(rng, 2, 6)
                )
                + f'<media:content height="1800" medium="image" '
                f'url="{site}/images/2026/11/{j}-superJumbo.jpg" width="1800"/>'
                f"<media:credit>{_headline(rng)[:20]}</media:credit>"
                f"<media:description>{_text(rng, 8, 20)}</media:description>"
            )
        else:
            parts.append(f'<media:thumbnail width="240" height="135" url="{site}/ace/standard/240/{j}.jpg"/>')
        parts.append("</item>\n")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


def _rss_dcdate(rng: random.Random, index: int, items: int, now: datetime) -> bytes:
    """The Guardian's RSS 2.0: escaped-HTML descriptions of a few paragraphs, `dc:date` beside `pubDate`."""
    site = f"https://www.paper{index}.example"
    name = f"The {_headline(rng)[:20].strip().title()} {index}"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">\n  <channel>\n'
        f"    <title>{name}</title>\n    <link>{site}/uk</link>\n"
        f"    <description>{_text(rng, 10, 20)}</description>\n    <language>en-gb</language>\n"
        f"    <copyright>{name} Media Limited or its affiliated companies. All rights reserved. 2026"
        f"</copyright>\n    <pubDate>{format_datetime(now, usegmt=True)}</pubDate>\n"
        f"    <dc:date>{now:%Y-%m-%dT%H:%M:%SZ}</dc:date>\n    <dc:language>en-gb</dc:language>\n"
        f"    <image>\n      <title>{name}</title>\n      <url>{site}/logo.png</url>\n"
        f"      <link>{site}</link>\n    </image>\n"
    ]
    for j, published in enumerate(_dates(rng, index, items, now)):
        title = _headline(rng)
        section = rng.choice(("world", "politics", "business", "sport", "culture", "environment"))
        link = f"{site}/{section}/{published:%Y/%b/%d}/{_slug(title)}".lower()
        paragraphs = "".join(f"<p>{_prose(rng, rng.randint(1, 3))}</p>" for _ in range(rng.randint(1, 3)))
        description = html.escape(f'{paragraphs} <a href="{link}">Continue reading...</a>', quote=False)
        cats = "".join(
            f'      <category domain="{site}/{c.lower()}">{c}</category>\n' for c in _categories(rng, 2, 6)
        )
        parts.append(
            f"    <item>\n      <title>{title}</title>\n      <link>{link}</link>\n"
            f"      <description>{description}</description>\n{cats}"
            f"      <pubDate>{format_datetime(published, usegmt=True)}</pubDate>\n"
            f"      <guid>{link}</guid>\n"
            f'      <media:content width="140" url="{site}/img/media/{j}/140.jpg">\n'
            f'        <media:credit scheme="urn:ebu">Photograph: {_headline(rng)[:20]}</media:credit>\n'
            f"      </media:content>\n"
            f"      <dc:creator>{_headline(rng)[:20].strip().title()}</dc:creator>\n"
            f"      <dc:date>{published:%Y-%m-%dT%H:%M:%SZ}</dc:date>\n    </item>\n"
        )
    parts.append("  </channel>\n</rss>\n")
    return "".join(parts).encode()


def _rss_fulltext(rng: random.Random, index: int, items: int, now: datetime) -> bytes:
    """Substack's RSS 2.0: the subtitle as description (often short), the whole post in content:encoded."""
    site = f"https://letter{index}.example"
    name = f"{_headline(rng)[:24].strip()} {index}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'version="2.0"><channel>'
        f"<title><![CDATA[{name}]]></title><description><![CDATA[{_text(rng, 5, 12)}]]></description>"
        f"<link>{site}</link><image><url>{site}/img/logo.png</url><title>{name}</title><link>{site}</link>"
        f"</image><generator>Substack</generator><lastBuildDate>{format_datetime(now, usegmt=True)}"
        f'</lastBuildDate><atom:link href="{site}/feed" rel="self" type="application/rss+xml"/>'
        f"<copyright><![CDATA[{name}]]></copyright><language><![CDATA[en]]></language>"
    ]
    for j, published in enumerate(_dates(rng, index, items, now)):
        title = _headline(rng)
        link = f"{site}/p/{_slug(title)}-{j}"
        parts.append(
            f"<item><title><![CDATA[{title}]]></title>"
            f"<description><![CDATA[{_text(rng, 4, 22)}]]></description>"
            f'<link>{link}</link><guid isPermaLink="false">{link}</guid>'
            f"<dc:creator><![CDATA[{_headline(rng)[:20].strip().title()}]]></dc:creator>"
            f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
            f'<enclosure url="{site}/img/{j}.jpeg" length="0" type="image/jpeg"/>'
            f"<content:encoded><![CDATA[{_body(rng, site, j)}]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def _atom_title(rng: random.Random, xhtml_share: float, html_share: float) -> str:
    title = _headline(rng)
    draw = rng.random()
    if draw < xhtml_share:
        words = title.split(" ")
        at = rng.randrange(len(words))
        words[at] = f"<em>{words[at]}</em>"
        return (
            f'<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{" ".join(words)}</div></title>'
        )
    if draw < xhtml_share + html_share:
        escaped = html.escape(f"{title} &amp; {_text(rng, 2, 4)[:-1]}", quote=False)
        return f'<title type="html">{escaped}</title>'
    return f'<title type="text">{title}</title>' if rng.random() < 0.5 else f"<title>{title}</title>"


def _atom(
    rng: random.Random, index: int, items: int, now: datetime, *, summary: bool, content: bool
) -> bytes:
    """Atom 1.0: Blogger's shape (content only), a news alert feed (summary only), or jekyll-feed's
    (summary, content and xml:base)."""
    site = f"https://blog{index}.example"
    name = f"{_headline(rng)[:24].strip()} {index}"
    jekyll = summary and content
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>'
        + ('<?xml-stylesheet href="/feed.xslt.xml" type="text/xml"?>' if jekyll else "")
        + '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" '
        + ('xml:lang="en">' if jekyll else 'xmlns:thr="http://purl.org/syndication/thread/1.0">')
        + f'<generator uri="https://example.org/" version="4.3">Generator</generator>'
        f'<link href="{site}/feed.xml" rel="self" type="application/atom+xml"/>'
        f'<link href="{site}/" rel="alternate" type="text/html"/>'
        f"<updated>{now.isoformat()}</updated><id>tag:{site[8:]},2026:feed</id>"
        f'<title type="html">{name}</title><subtitle>{_text(rng, 4, 10)}</subtitle>'
        f"<author><name>{name}</name></author>\n"
    ]
    xhtml_share, html_share = (0.15, 0.25) if not content else (0.0, 0.2 if jekyll else 0.0)
    for j, published in enumerate(_dates(rng, index, items, now)):
        title = _atom_title(rng, xhtml_share, html_share)
        slug = _slug(_headline(rng))
        link = f"{site}/{published:%Y/%m}/{slug}.html"
        updated = published + timedelta(minutes=rng.choice((0, 0, 5, 40)))
        entry = [
            f"<entry>{title}"
            f'<link href="{link}" rel="alternate" type="text/html" title="{slug}"/>'
            f"<published>{published.isoformat()}</published><updated>{updated.isoformat()}</updated>"
            f"<id>{link if jekyll else f'tag:{site[8:]},2026:post-{index * 1000 + j}'}</id>"
        ]
        if not jekyll:
            entry.append(
                f'<link rel="replies" type="text/html" href="{link}#comments" title="{j % 5} Comments"/>'
                f'<link rel="edit" type="application/atom+xml" href="{site}/feeds/posts/default/{j}"/>'
            )
        if content:
            base = f' xml:base="{link}"' if jekyll else ""
            entry.append(
                f'<content type="html"{base}>{html.escape(_body(rng, site, j), quote=False)}</content>'
            )
        entry.append(f"<author><name>{_headline(rng)[:20].strip().title()}</name></author>")
        entry.extend(f'<category term="{c}"/>' for c in _categories(rng, 0, 4))
        if summary:
            text = _prose(rng, rng.randint(1, 3))
            entry.append(
                f'<summary type="html">{html.escape(f"<p>{text}</p>", quote=False)}</summary>'
                if rng.random() < 0.5 or jekyll
                else f"<summary>{text}</summary>"
            )
        if rng.random() < 0.6:
            entry.append(f'<media:thumbnail url="{site}/images/{j}-s72-c.jpg" height="72" width="72"/>')
        if not jekyll:
            entry.append(f"<thr:total>{j % 5}</thr:total>" if content else "")
        entry.append("</entry>\n")
        parts.append("".join(entry))
    parts.append("</feed>\n")
    return "".join(parts).encode()


def _json_feed(rng: random.Random, index: int, items: int, now: datetime) -> bytes:
    """JSON Feed 1.1 (Micro.blog's and static sites' shape): content_html, most items with a summary."""
    site = f"https://micro{index}.example"
    name = f"{_headline(rng)[:24].strip()} {index}"
    entries = []
    for j, published in enumerate(_dates(rng, index, items, now)):
        title = _headline(rng)
        item: dict[str, object] = {
            "id": f"{site}/{j}",
            "url": f"{site}/{published:%Y/%m/%d}/{_slug(title)}.html",
            "title": title,
            "content_html": _body(rng, site, j),
            "date_published": published.isoformat().replace("+00:00", "Z"),
            "authors": [{"name": _headline(rng)[:20].strip().title()}],
            "tags": _categories(rng, 0, 4),
        }
        if rng.random() < 0.7:
            item["summary"] = _prose(rng, rng.randint(1, 2))
        if rng.random() < 0.5:
            item["image"] = f"{site}/uploads/{j}.jpg"
        entries.append(item)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": name,
        "home_page_url": f"{site}/",
        "feed_url": f"{site}/feed.json",
        "description": _text(rng, 4, 10),
        "icon": f"{site}/icon.png",
        "language": "en",
        "authors": [{"name": name}],
        "items": entries,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


@dataclass(frozen=True, slots=True)
class FarmFeed:
    index: int
    shape: str
    items: int
    content_type: str
    body: bytes


def shape_of(index: int) -> str:
    return _SLOTS[index % len(_SLOTS)]


def farm_feed(index: int, now: datetime | None = None) -> FarmFeed:
    """Feed `index` of the mix: its shape (see the module's table), item count and bytes, deterministic."""
    shape = shape_of(index)
    rng = random.Random(f"farm-{index}")
    sizes, weights = zip(*_ITEM_COUNTS, strict=True)
    items = rng.choices(sizes, weights=weights)[0]
    now = now or NOW
    if shape.startswith("wp_"):
        body = _wordpress(rng, index, items, now, full=shape == "wp_full")
    elif shape == "rss_news":
        body = _rss_news(rng, index, items, now)
    elif shape == "rss_dcdate":
        body = _rss_dcdate(rng, index, items, now)
    elif shape == "rss_fulltext":
        body = _rss_fulltext(rng, index, items, now)
    elif shape == "atom_full":
        body = _atom(rng, index, items, now, summary=False, content=True)
    elif shape == "atom_summary":
        body = _atom(rng, index, items, now, summary=True, content=False)
    elif shape == "atom_both":
        body = _atom(rng, index, items, now, summary=True, content=True)
    else:
        body = _json_feed(rng, index, items, now)
    return FarmFeed(index, shape, items, _CONTENT_TYPES[shape], body)


def mix_summary(feeds: list[FarmFeed]) -> dict[str, object]:
    """What a farm of these feeds serves: feeds, entries and KiB per shape, sizes overall."""
    sizes = sorted(len(f.body) for f in feeds)
    per_shape: dict[str, dict[str, float]] = {}
    for shape in SHAPES:
        mine = [f for f in feeds if f.shape == shape]
        if mine:
            per_shape[shape] = {
                "feeds": len(mine),
                "entries": sum(f.items for f in mine),
                "kib": round(sum(len(f.body) for f in mine) / 1024, 1),
            }
    return {
        "feeds": len(feeds),
        "entries": sum(f.items for f in feeds),
        "mib": round(sum(sizes) / 2**20, 1),
        "kib_min_median_max": [round(sizes[i] / 1024, 1) for i in (0, len(sizes) // 2, -1)] if sizes else [],
        "items": dict(sorted(Counter(f.items for f in feeds).items())),
        "shapes": per_shape,
    }


def _serve(
    port: int,
    n_feeds: int,
    ready: multiprocessing.synchronize.Event,
    stop: multiprocessing.synchronize.Event,
    summary: Connection,
) -> None:
    feeds = [farm_feed(i) for i in range(n_feeds)]
    summary.send(mix_summary(feeds))
    summary.close()
    last_modified = "Sun, 29 Nov 2026 12:00:00 GMT"

    async def handle(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        if index >= n_feeds or request.match_info["ext"] != _extension(index):
            raise web.HTTPNotFound()
        etag = f'"feed-{index}-v1"'
        feed = feeds[index]
        headers = {"ETag": etag, "Last-Modified": last_modified, "Content-Type": feed.content_type}
        if (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == last_modified
        ):
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": last_modified})
        return web.Response(body=feed.body, headers=headers)

    async def main() -> None:
        app = web.Application()
        app.router.add_get(r"/feed/{index:\d+}.{ext}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for h in range(HOSTS):
            await web.TCPSite(runner, f"127.0.0.{h + 2}", port, backlog=1024).start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await runner.cleanup()

    asyncio.run(main())


def _extension(index: int) -> str:
    return "json" if shape_of(index) == "json" else "xml"


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now (for a server another process, or a later step, will bind)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Farm:
    """`with Farm(1000) as farm: farm.urls` — the feeds are served until the block ends."""

    def __init__(self, n_feeds: int) -> None:
        self.n_feeds = n_feeds
        self.port = free_port("127.0.0.2")
        ctx = multiprocessing.get_context("spawn")
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._summary, summary = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_serve, args=(self.port, n_feeds, self._ready, self._stop, summary), daemon=True
        )
        self.mix: dict[str, Any] = {}  # `mix_summary` of the feeds served, once started

    @property
    def urls(self) -> list[str]:
        return [
            f"http://127.0.0.{i % HOSTS + 2}:{self.port}/feed/{i}.{_extension(i)}"
            for i in range(self.n_feeds)
        ]

    def __enter__(self) -> Farm:
        self._proc.start()
        for _ in range(1200):
            if self._ready.wait(0.1):
                self.mix = self._summary.recv()
                return self
            if not self._proc.is_alive():
                break
        raise RuntimeError("feed farm did not start")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()

"""The bundled replica sites and their server behave like the real web would.

What other tests and ``newsmon demo`` rely on: validators and 304s, runtime overlays,
injected errors, placeholders, the request log, the generated config, and the sites'
own integrity (every URL a feed, sitemap or listing names answers, robots.txt says
what the sites promise).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import yaml
from lxml import etree, html

from monitor.config import load_config
from monitor.demo.replicas import ReplicaSite, ReplicaSites, available_sites

SITES = ["andalpost", "kremlin-en", "kremlin-ru", "xinhua-zh"]
KREMLIN_FEED = "/events/president/news/feed"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}

# Never go through a proxy configured in the environment: the replicas are local.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(
        url, headers={"User-Agent": "newsmon-test/1.0", **(headers or {})}
    )
    try:
        with _opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def sites() -> Iterator[ReplicaSites]:
    with ReplicaSites() as running:
        yield running


@pytest.fixture(autouse=True)
def _pristine(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sites" in request.fixturenames:
        for site in request.getfixturevalue("sites"):
            site.reset()


def test_every_bundled_site_is_found() -> None:
    assert available_sites() == SITES


def test_feed_answers_with_validators_and_atom_type(sites: ReplicaSites) -> None:
    status, headers, body = fetch(sites.site("kremlin-en").url(KREMLIN_FEED))
    assert status == 200
    assert headers["Content-Type"] == "application/atom+xml"
    assert headers["ETag"].startswith('"')
    assert headers["Last-Modified"].endswith("GMT")
    assert int(headers["Content-Length"]) == len(body)


def test_if_none_match_gets_304_without_body(sites: ReplicaSites) -> None:
    url = sites.site("kremlin-en").url(KREMLIN_FEED)
    _, headers, _ = fetch(url)
    status, again, body = fetch(url, {"If-None-Match": headers["ETag"]})
    assert (status, body) == (304, b"")
    assert again["ETag"] == headers["ETag"]
    assert fetch(url, {"If-None-Match": '"something-else"'})[0] == 200


def test_if_modified_since_gets_304_when_nothing_changed(sites: ReplicaSites) -> None:
    url = sites.site("andalpost").url("/feed/")
    _, headers, _ = fetch(url)
    assert fetch(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200


NEW_ENTRY = """<entry>
    <title>Telephone conversation with President of China Xi Jinping</title>
    <id>{{BASE}}/events/president/news/76001</id>
    <link rel="alternate" type="text/html" href="{{BASE}}/events/president/news/76001"/>
    <published>2025-01-21T17:30:00+03:00</published>
    <updated>2025-01-21T17:30:00+03:00</updated>
    <summary type="html">Vladimir Putin had a telephone conversation with Xi Jinping.</summary>
  </entry>
  <entry>"""


def test_put_replaces_content_and_changes_validators(sites: ReplicaSites) -> None:
    site = sites.site("kremlin-en")
    url = site.url(KREMLIN_FEED)
    _, before, old_body = fetch(url)
    shipped = (site.root / KREMLIN_FEED.lstrip("/")).read_text("utf-8")
    site.put(KREMLIN_FEED, shipped.replace("<entry>", NEW_ENTRY, 1))
    status, after, body = fetch(url, {"If-None-Match": before["ETag"]})
    assert status == 200
    assert after["ETag"] != before["ETag"]
    assert _feed_links(body)[:2] == [
        site.url("/events/president/news/76001"),
        site.url("/events/president/news/75391"),
    ]
    since_old = fetch(url, {"If-Modified-Since": before["Last-Modified"]})
    assert since_old[0] == 200, "a put() must move Last-Modified on"
    site.reset()
    _, restored, body = fetch(url)
    assert (restored["ETag"], body) == (before["ETag"], old_body)


def test_put_adds_new_paths_and_delete_hides_files(sites: ReplicaSites) -> None:
    site = sites.site("kremlin-en")
    site.put("/events/president/news/99999", "<html><title>New</title></html>")
    assert fetch(site.url("/events/president/news/99999"))[2].startswith(b"<html>")
    site.delete("/events/president/news/70412")
    assert fetch(site.url("/events/president/news/70412"))[0] == 404


def test_fail_answers_with_the_status_until_cleared(sites: ReplicaSites) -> None:
    site = sites.site("andalpost")
    site.fail("/feed/", 503)
    assert fetch(site.url("/feed/"))[0] == 503
    assert fetch(site.url("/sitemap_index.xml"))[0] == 200
    site.fail("/feed/", None)
    assert fetch(site.url("/feed/"))[0] == 200


def test_fail_all_covers_every_path(sites: ReplicaSites) -> None:
    site = sites.site("xinhua-zh")
    site.fail_all(500)
    assert fetch(site.url("/robots.txt"))[0] == 500
    assert fetch(site.url("/world/index.html"))[0] == 500
    site.fail_all(None)
    assert fetch(site.url("/world/index.html"))[0] == 200


def test_placeholders_resolve_to_own_and_other_sites(sites: ReplicaSites) -> None:
    xinhua, kremlin = sites.site("xinhua-zh"), sites.site("kremlin-en")
    _, _, feed = fetch(kremlin.url(KREMLIN_FEED))
    assert f"<id>{kremlin.base_url}/events/president/news/75391</id>".encode() in feed
    _, _, listing = fetch(xinhua.url("/world/index.html"))
    assert b"{{BASE" not in listing
    assert f'href="{kremlin.base_url}/2024'.encode() in listing


def test_a_site_that_is_not_running_becomes_an_invalid_host() -> None:
    with ReplicaSites(["xinhua-zh"]) as only:
        _, _, listing = fetch(only.site("xinhua-zh").url("/world/index.html"))
    assert b'href="http://kremlin-en.invalid/2024' in listing


def test_request_log_records_paths_with_query_in_order(sites: ReplicaSites) -> None:
    site = sites.site("andalpost")
    site.clear_requests()
    fetch(site.url("/feed/"))
    fetch(site.url("/?p=11921"))
    fetch(site.url("/no-such-page/"))
    assert site.requests == ["/feed/", "/?p=11921", "/no-such-page/"]
    site.clear_requests()
    assert site.requests == []


@pytest.mark.parametrize(
    ("site", "path", "content_type"),
    [
        ("andalpost", "/feed/", "application/rss+xml"),
        ("andalpost", "/sitemap_index.xml", "application/xml"),
        ("andalpost", "/robots.txt", "text/plain; charset=utf-8"),
        ("andalpost", "/", "text/html; charset=utf-8"),
        ("kremlin-en", "/events/president/news/75391", "text/html; charset=utf-8"),
        ("kremlin-ru", "/events/president/news/70255", "text/html"),
    ],
)
def test_content_types(sites: ReplicaSites, site: str, path: str, content_type: str) -> None:
    status, headers, _ = fetch(sites.site(site).url(path))
    assert (status, headers["Content-Type"]) == (200, content_type)


def test_legacy_encoded_page_is_served_as_is(sites: ReplicaSites) -> None:
    _, _, body = fetch(sites.site("kremlin-ru").url("/events/president/news/70255"))
    assert b'<meta charset="windows-1251">' in body
    text = body.decode("cp1251")
    assert "Си Цзиньпином" in text
    assert "{{BASE" not in text


@pytest.mark.parametrize(
    "path",
    ["/source.yaml", "/../source.yaml", "/%2e%2e/replicas.py", "/events/president/news/75391/"],
)
def test_paths_outside_the_site_or_misshapen_are_404(sites: ReplicaSites, path: str) -> None:
    assert fetch(sites.site("kremlin-en").url("/") + path.lstrip("/"))[0] == 404


def test_head_sends_headers_only(sites: ReplicaSites) -> None:
    request = urllib.request.Request(sites.site("kremlin-en").url(KREMLIN_FEED), method="HEAD")
    with _opener.open(request, timeout=10) as response:
        assert response.status == 200
        assert response.headers["ETag"]
        assert response.read() == b""


def test_respond_works_without_a_socket() -> None:
    site = ReplicaSite.bundled("xinhua-zh").start()
    try:
        response = site.respond("/robots.txt", {})
        assert response.status == 200
        assert b"Disallow: /preview/" in response.body
    finally:
        site.stop()


def test_config_yaml_names_each_site_and_loads(sites: ReplicaSites, tmp_path: Path) -> None:
    text = sites.config_yaml(str(tmp_path / "newsmon.db"), extra={"notify": {"max_age": 0}})
    data = yaml.safe_load(text)
    assert [source["name"] for source in data["sources"]] == SITES
    assert data["crawl"] == {
        "delay": 0,
        "concurrency_per_host": 4,
        "obey_robots": True,
        "user_agent": "newsmon-test/1.0",
    }
    assert "{{" not in text
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    for source in config.sources:
        assert source.hosts == {urlsplit(sites.site(source.name).base_url).netloc}


# -- integrity of the bundled sites ------------------------------------------------


def _feed_links(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    atom = root.findall("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}id")
    rss = [item.findtext("link") or "" for item in root.iter("item")]
    return [node.text or "" for node in atom] or rss


def _sitemap_links(url: str) -> list[str]:
    status, _, body = fetch(url)
    assert status == 200, url
    root = etree.fromstring(body)
    links = [loc.text or "" for loc in root.findall("sm:url/sm:loc", SITEMAP_NS)]
    for child in root.findall("sm:sitemap/sm:loc", SITEMAP_NS):
        links += _sitemap_links(child.text or "")
    return links


def _robots(base_url: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(fetch(base_url + "/robots.txt")[2].decode().splitlines())
    return parser


@pytest.mark.parametrize("name", SITES)
def test_every_article_a_source_names_exists(sites: ReplicaSites, name: str) -> None:
    site = sites.site(name)
    (source,) = site.sources()
    follow = re.compile(source["follow"])
    robots = _robots(site.base_url)
    articles: set[str] = set()
    for feed in source.get("feeds", []):
        status, _, body = fetch(feed)
        assert status == 200, feed
        articles.update(link for link in _feed_links(body) if link.startswith(site.base_url))
    for sitemap in source.get("sitemaps", []):
        articles.update(link for link in _sitemap_links(sitemap) if follow.search(link))
    for listing in source.get("listings", []):
        status, _, body = fetch(listing)
        assert status == 200, listing
        for href in html.fromstring(body).xpath("//a/@href"):
            link = urljoin(listing, href)
            if link.startswith(site.base_url) and follow.search(link):
                articles.add(link)
    assert len(articles) >= 6
    for link in sorted(articles):
        assert follow.search(link), link
        if robots.can_fetch("newsmon-test/1.0", link):
            assert fetch(link)[0] == 200, link


def test_xinhua_listing_holds_the_crawler_traps(sites: ReplicaSites) -> None:
    site, kremlin = sites.site("xinhua-zh"), sites.site("kremlin-en")
    (source,) = site.sources()
    follow = re.compile(source["follow"])
    listing = source["listings"][0]
    links = [urljoin(listing, h) for h in html.fromstring(fetch(listing)[2]).xpath("//a/@href")]
    off_host = [link for link in links if link.startswith(kremlin.base_url)]
    assert len(off_host) == 1 and follow.search(off_host[0])
    robots = _robots(site.base_url)
    disallowed = [link for link in links if not robots.can_fetch("newsmon-test/1.0", link)]
    assert len(disallowed) == 1 and follow.search(disallowed[0])
    assert fetch(disallowed[0])[0] == 200  # it exists: only robots.txt keeps a crawler out
    assert any(not follow.search(link) for link in links)  # navigation is not followed


def test_listing_reaches_an_article_the_feed_lacks(sites: ReplicaSites) -> None:
    site = sites.site("kremlin-en")
    in_feed = set(_feed_links(fetch(site.url(KREMLIN_FEED))[2]))
    listing_url = site.url("/events/president/news/page/1")
    listed = {
        urljoin(listing_url, href)
        for href in html.fromstring(fetch(listing_url)[2]).xpath(
            "//div[contains(@class, 'hentry_event')]//h3[contains(@class, 'hentry__title')]/a/@href"
        )
    }
    assert listed - in_feed == {site.url("/events/president/news/70171")}


def test_sitemap_lists_posts_the_feed_lacks(sites: ReplicaSites) -> None:
    site = sites.site("andalpost")
    in_feed = set(_feed_links(fetch(site.url("/feed/"))[2]))
    posts = set(_sitemap_links(site.url("/post-sitemap.xml")))
    assert len(in_feed) == 6
    assert len(posts - in_feed) == 2

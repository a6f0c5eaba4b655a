"""Fetching URLs safely (public addresses only, checked at every redirect) and decoding pages by charset."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.documents import IngestError
from ingest.fetch import MAX_REDIRECTS, check_host, not_public
from ingest.loaders import load_url
from kvisa.settings import Settings
from tests.conftest import http_site
from tests.data.bad.samples import BadSite

ZH = "K字签证发给入境的外国青年科技人才，申请人无需境内雇主邀请。"
ZH_HANT = "入境的外國青年科技人才"
JA = "高度専門職の在留期間は五年で、ポイントは七十点以上が必要です。"


def _page(text: str, meta: str = "") -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return (f"<html><head>{head}<title>Page</title></head><body><article><h1>Notice</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>")


ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/gbk-meta.html": (200, {"Content-Type": "text/html"}, _page(ZH, "gbk").encode("gbk")),
    "/gb2312-meta.html": (200, {"Content-Type": "text/html"}, _page(ZH, "gb2312").encode("gbk")),
    "/gb18030-header.html": (200, {"Content-Type": "text/html; charset=GB18030"}, _page(ZH).encode("gb18030")),
    "/big5-header.html": (200, {"Content-Type": "text/html; charset=big5"}, _page(ZH_HANT).encode("big5")),
    "/sjis-meta.html": (200, {"Content-Type": "text/html"}, _page(JA, "shift_jis").encode("shift_jis")),
    "/gbk-undeclared.html": (200, {"Content-Type": "text/html"}, _page(ZH * 3).encode("gbk")),
    "/utf8-bom.html": (200, {"Content-Type": "text/html"}, b"\xef\xbb\xbf" + _page(ZH).encode("utf-8")),
    "/utf8.html": (200, {"Content-Type": "text/html"}, _page(ZH).encode("utf-8")),
    "/hop": (302, {"Location": "/utf8.html"}, b""),
    "/loop": (302, {"Location": "/loop"}, b""),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, headers, body = ROUTES.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with http_site(_Handler) as url:
        yield url


@pytest.fixture
def intranet(tmp_path: Path) -> Settings:
    """Settings that opt in to private addresses, as an intranet user would (KVISA_ALLOW_PRIVATE_URLS)."""
    return Settings(home=tmp_path / "home", allow_private_urls=True)


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.9", "private"),
    ("192.168.1.20", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("fd00:ec2::254", "private"), ("::ffff:127.0.0.1", "loopback"), ("224.0.0.251", "multicast"),
    ("0.0.0.0", "private"), ("100.64.0.1", "non-public"), ("8.8.8.8", ""), ("2001:4860:4860::8888", ""),
])
def test_which_addresses_are_not_public(address: str, kind: str) -> None:
    assert not_public(address) == kind


def test_a_private_address_is_refused_by_default(site: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    assert settings.allow_private_urls is False
    for url in (f"{site}/utf8.html", "http://localhost:9/page.html"):
        with pytest.raises(IngestError, match=r"refused, .* is a loopback address") as caught:
            load_url(url, settings)
        assert "\n" not in str(caught.value) and "KVISA_ALLOW_PRIVATE_URLS" in str(caught.value)


def test_every_redirect_target_is_checked_again(site: str, intranet: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []

    def check(url: str, allow_private: bool) -> None:
        checked.append(url)
        if url.endswith("/utf8.html"):  # as if the redirect led to an internal address
            raise IngestError(f"{url}: refused")

    monkeypatch.setattr("ingest.fetch.check_host", check)
    with pytest.raises(IngestError, match="refused"):
        load_url(f"{site}/hop", intranet)
    assert checked == [f"{site}/hop", f"{site}/utf8.html"]


def test_redirects_are_capped(site: str, intranet: Settings) -> None:
    with pytest.raises(IngestError, match=f"more than {MAX_REDIRECTS} redirects"):
        load_url(f"{site}/loop", intranet)
    assert ZH in load_url(f"{site}/hop", intranet).text  # one redirect is fine


def test_a_url_that_is_not_http_is_refused_before_any_lookup() -> None:
    with pytest.raises(IngestError, match="not an http"):
        check_host("file:///etc/passwd", allow_private=False)


@pytest.mark.parametrize(("path", "text"), [
    ("/gbk-meta.html", ZH), ("/gb2312-meta.html", ZH), ("/gb18030-header.html", ZH),
    ("/big5-header.html", ZH_HANT), ("/sjis-meta.html", JA), ("/gbk-undeclared.html", ZH),
    ("/utf8-bom.html", ZH), ("/utf8.html", ZH),
])
def test_pages_are_decoded_by_their_declared_or_detected_charset(site: str, intranet: Settings, path: str,
                                                                 text: str) -> None:
    doc = load_url(f"{site}{path}", intranet)
    assert text in doc.text, doc.text[:200]
    assert "\ufeff" not in doc.text


def test_a_page_that_never_ends_is_cut_off_by_time_and_by_size(tmp_path: Path) -> None:
    with http_site(BadSite) as site_url:  # its /endless.html drips a line every 10 ms
        url = f"{site_url}/endless.html"
        slow = Settings(home=tmp_path / "a", allow_private_urls=True, url_timeout_s=1.0)
        with pytest.raises(IngestError, match="timed out after 1 s"):
            load_url(url, slow)
        small = Settings(home=tmp_path / "b", allow_private_urls=True, max_file_mb=0.01)
        with pytest.raises(IngestError, match="MiB limit"):
            load_url(url, small)

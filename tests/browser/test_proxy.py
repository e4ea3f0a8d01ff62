"""The deploy setup for real: two copies of the page behind nginx, run from deploy/nginx.conf.

Each test starts two `streamlit run app.py` copies on free ports and an nginx (a child
process, not a daemon) on a free port, all on 127.0.0.1, with deploy/nginx.conf's upstream
ports and listen address filled in and nothing else changed. Only the wrapper around it
(pid, logs, temp folders) is the test's own; its access log records which copy answered each
request, under which sticky-session key. Chromium visits the page through nginx.

Without nginx (or chromium) the tests skip on a developer's machine and fail on CI.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import (
    ARTIFACTS,
    ONE,
    PROMPT,
    REPO,
    SEVEN,
    VIEWPORT,
    answer,
    draw,
    free_port,
    missing,
    playwright_expect,
    start_page,
    stop,
    wait_healthy,
    wait_until,
)

expect = playwright_expect()

SITE_CONF = REPO / "deploy" / "nginx.conf"
BOOK_MODEL = REPO / "assets" / "models" / "book.npz"
COOKIE = "digitlab_route"
# How long to wait for the page to show something: generous, because plotly's 4 MB script
# is parsed on a machine that may be busy with other tests (no timing is asserted).
WAIT = 30_000  # ms

# The test's nginx.conf around deploy/nginx.conf: everything that would otherwise need root
# or /var points into the test's folder. The log format names the copy that answered.
MAIN_CONF = """\
{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/digitlab.conf;
    log_format routes '$upstream_addr $digitlab_route $status "$request"';
    access_log {prefix}/access.log routes;
}}
"""


def site_config(copy_ports: tuple[int, int], listen_port: int) -> str:
    """deploy/nginx.conf with the two copies' ports and a 127.0.0.1 listen port filled in."""
    text = SITE_CONF.read_text()
    replacements = {
        "server 127.0.0.1:8501 ": f"server 127.0.0.1:{copy_ports[0]} ",
        "server 127.0.0.1:8502 ": f"server 127.0.0.1:{copy_ports[1]} ",
        "    listen 80;\n    listen [::]:80;\n": f"    listen 127.0.0.1:{listen_port};\n",
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
        text = text.replace(old, new)
    return text


@dataclass
class Proxy:
    url: str
    copies: dict[str, subprocess.Popen]  # "127.0.0.1:<port>" -> its streamlit process
    access_log: Path
    error_log: Path
    logs: list = field(default_factory=list)

    def served(self, route: str, since: int = 0) -> list[tuple[list[str], str]]:
        """(copies tried, the answering one last; request line) of the logged requests under
        sticky key `route`, from line `since` of the access log on."""
        rows = []
        for line in self.access_log.read_text().splitlines()[since:]:
            m = re.match(r'(\S+(?:, \S+)*) (\S+) (\d+) "(.*)"$', line)
            if m and m.group(2) == route:
                rows.append((m.group(1).split(", "), m.group(4)))
        return rows

    def logged(self) -> int:
        """How many requests the access log holds so far."""
        return len(self.access_log.read_text().splitlines())

    def stop_copy(self, address: str) -> None:
        stop(self.copies[address])


@pytest.fixture
def proxy(tmp_path):
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        missing("nginx not found (apt-get install nginx)")
    ARTIFACTS.mkdir(exist_ok=True)
    copies: dict[str, subprocess.Popen] = {}
    logs = []
    nginx_proc = None
    try:
        ports = (free_port(), free_port())
        for port in ports:
            log_path = ARTIFACTS / f"proxy-copy-{port}.log"
            log = open(log_path, "wb")  # noqa: SIM115 - closed with the others below
            logs.append(log)
            copies[f"127.0.0.1:{port}"] = start_page(port, log)
        for (address, proc), log in zip(copies.items(), logs):
            wait_healthy(f"http://{address}", proc, Path(log.name))

        prefix = tmp_path / "nginx"
        prefix.mkdir()
        listen = free_port()
        (prefix / "digitlab.conf").write_text(site_config(ports, listen))
        # As root, nginx's workers would switch to `nobody`, who cannot enter tmp_path.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix, user=user))
        nginx_log = open(prefix / "stderr.log", "wb")  # noqa: SIM115 - closed below
        logs.append(nginx_log)
        nginx_proc = subprocess.Popen(
            [
                nginx,
                "-c",
                str(prefix / "nginx.conf"),
                "-p",
                str(prefix),
                "-e",
                str(prefix / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=nginx_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{listen}"
        wait_healthy(url, nginx_proc, prefix / "error.log")
        yield Proxy(url, copies, prefix / "access.log", prefix / "error.log", logs)
    finally:
        if nginx_proc is not None:
            stop(nginx_proc)
        for proc in copies.values():
            stop(proc)
        for log in logs:
            log.close()


def visit(browser, url: str, cookies: list | None = None):
    """A new visitor (own browser context, own cookies) with the page loaded through nginx."""
    context = browser.new_context(viewport=VIEWPORT)
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=WAIT)
    return context, page


def read_as(page, digit: int) -> None:
    """The answer is `digit` and the small image and both charts have rendered."""
    expect(answer(page)).to_have_text(str(digit), timeout=WAIT)
    expect(page.get_by_test_id("stImage").locator("img")).to_be_visible(timeout=WAIT)
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=WAIT)


def clear(page) -> None:
    page.get_by_role("button", name=re.compile("Clear canvas")).click()
    expect(page.get_by_text(PROMPT)).to_be_visible(timeout=WAIT)
    expect(answer(page)).to_have_count(0, timeout=WAIT)


def route_of(context) -> str:
    routes = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    assert len(routes) == 1, f"nginx set no {COOKIE} cookie: {context.cookies()}"
    return routes[0]


def copies_used(proxy: Proxy, route: str, since: int = 0) -> set[str]:
    """The copies that answered the requests under sticky key `route`."""
    return {tried[-1] for tried, _ in proxy.served(route, since)}


def wait_for_websocket_logged(proxy: Proxy, route: str) -> None:
    """nginx logs a websocket when it closes; wait for that line after closing the tab."""
    wait_until(
        lambda: any("/_stcore/stream" in r for _, r in proxy.served(route)),
        10,
        f"a websocket logged under {route} (logged: {proxy.served(route)})",
        every=0.2,
    )


def test_drawing_and_upload_through_nginx_stay_on_one_copy(browser, proxy):
    context, page = visit(browser, proxy.url)
    try:
        draw(page, ONE)
        read_as(page, 1)
        clear(page)
        draw(page, SEVEN)
        read_as(page, 7)
        page.screenshot(path=ARTIFACTS / "proxy-drawn-7.png", full_page=True)

        # An upload is accepted only by the copy that holds the session: it works only if
        # the sticky cookie sent it where the websocket went.
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.locator("input[type=file]").set_input_files(BOOK_MODEL)
        expect(sidebar.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            "Uploaded book.npz", timeout=WAIT
        )
        expect(page.get_by_text("activations of its 30 neurons")).to_be_visible(timeout=WAIT)

        route = route_of(context)
        requests = proxy.served(route)
        assert any("/_stcore/upload_file" in r for _, r in requests), requests
        assert len(copies_used(proxy, route)) == 1, requests
    finally:
        context.close()
    # The websocket went to the same copy.
    wait_for_websocket_logged(proxy, route)
    assert len(copies_used(proxy, route)) == 1, proxy.served(route)


def test_new_visitor_is_served_when_a_copy_stops(browser, proxy):
    first, page = visit(browser, proxy.url)
    try:
        draw(page, ONE)
        expect(answer(page)).to_have_text("1", timeout=WAIT)
        route = route_of(first)
        (gone,) = copies_used(proxy, route)
        cookies = first.cookies()
    finally:
        first.close()
    wait_for_websocket_logged(proxy, route)
    proxy.stop_copy(gone)
    (left,) = set(proxy.copies) - {gone}
    since = proxy.logged()

    # A new visitor whose sticky key points at the stopped copy (the first visitor's cookie)
    # and one with no cookie yet: both get the page and an answer from the copy that is left.
    for label, cookies_given in (("stopped copy's key", cookies), ("no cookie", None)):
        context, page = visit(browser, proxy.url, cookies_given)
        try:
            draw(page, SEVEN)
            read_as(page, 7)
            route = route_of(context)
            # Every request was finally answered by the copy that is left (a request that
            # nginx first tried on the stopped copy is logged with both, the answering last).
            assert copies_used(proxy, route, since) == {left}, (label, proxy.served(route, since))
            if cookies_given:  # nginx did try the stopped copy first, then went on
                assert any(
                    tried[0] == gone and tried[-1] == left
                    for tried, _ in proxy.served(route, since)
                ), proxy.served(route, since)
            page.screenshot(path=ARTIFACTS / "proxy-after-copy-stopped.png", full_page=True)
        finally:
            context.close()
    assert proxy.copies[gone].poll() is not None  # it really was down all along


def fetch(url: str, accept_gzip: bool) -> tuple[bytes, str | None]:
    """The body as it crosses the wire (compressed or not) and its Content-Encoding."""
    headers = {"Accept-Encoding": "gzip"} if accept_gzip else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.read(), r.headers.get("Content-Encoding")


def test_scripts_and_styles_come_compressed(browser, proxy):
    """A first visit's scripts and styles (those the browser asked for while loading the page
    and reading a drawing), fetched again through nginx with and without gzip."""
    context = browser.new_context(viewport=VIEWPORT)
    assets: set[str] = set()
    moved: list[int] = []  # body bytes of every response the browser received
    context.on(
        "request",
        lambda r: assets.add(r.url) if r.resource_type in ("script", "stylesheet") else None,
    )
    context.on("requestfinished", lambda r: moved.append(r.sizes()["responseBodySize"]))
    page = context.new_page()
    page.goto(proxy.url)
    expect(page.locator("canvas.upper-canvas")).to_be_visible(timeout=WAIT)
    draw(page, ONE)
    read_as(page, 1)  # plotly's script, loaded for the first chart, is among them
    context.close()

    assert any(url.endswith(".js") for url in assets), assets
    fetched = {url: (fetch(url, False), fetch(url, True)) for url in sorted(assets)}
    plain_total = sum(len(plain) for (plain, _), _packed in fetched.values())
    gzip_total = sum(len(packed) for _plain, (packed, _) in fetched.values())
    print(
        f"first visit: {sum(moved) // 1024} KiB of response bodies moved; its {len(assets)} "
        f"scripts and styles: {plain_total // 1024} KiB plain, {gzip_total // 1024} KiB gzipped"
    )
    for url, ((plain, plain_encoding), (packed, encoding)) in fetched.items():
        assert plain_encoding is None, url
        if len(plain) >= 1024:  # gzip_min_length: smaller ones are sent as they are
            assert encoding == "gzip", url
            assert gzip.decompress(packed) == plain, url
    assert gzip_total < plain_total / 2


def _fetch(url: str) -> tuple[int, dict]:
    """(status, headers) of a GET; an HTTP error status is returned, not raised."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def test_the_proxy_forbids_framing_and_hides_the_metrics(proxy):
    """Issue 18: other sites cannot frame the page, and Streamlit's metrics (function names,
    cache counts) are not served to visitors, also not under an encoded or longer path;
    each copy still serves them on its own 127.0.0.1 port for the machine's monitoring."""
    for path in ("/", "/_stcore/health", "/_stcore/host-config"):
        status, headers = _fetch(proxy.url + path)
        assert status == 200, path
        assert headers.get("X-Frame-Options") == "SAMEORIGIN", (path, headers)
        assert "frame-ancestors 'self'" in headers.get("Content-Security-Policy", ""), path
    for path in ("/_stcore/metrics", "/_stcore/%6Detrics", "/_stcore/metrics?families=x"):
        status, headers = _fetch(proxy.url + path)
        assert status == 404, (path, status)
        assert headers.get("X-Frame-Options") == "SAMEORIGIN"  # on refusals too
    copy = next(iter(proxy.copies))
    assert _fetch(f"http://{copy}/_stcore/metrics")[0] == 200  # it exists: nginx hides it

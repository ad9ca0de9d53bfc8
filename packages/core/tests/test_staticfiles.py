"""Static files over real granian servers (RSGI and ASGI), with real clients.

Requests whose path must reach the server byte for byte (``..``, ``%2e``, backslashes, NUL) are
sent over a plain socket, because httpx normalises paths before sending them.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from wirecore import App, Request, Server
from wirecore.staticfiles import StaticFiles, guess_type, spa_fallback_handler

Serve = Callable[..., Server]

OUTSIDE = b"OUTSIDE-SECRET-7f3a"
SIBLING = b"SIBLING-SECRET-91c2"
SIBLING_INDEX = b"SIBLING-INDEX-4411"
DOTENV = b"DOTFILE-SECRET-55d0"
GITCONFIG = b"GITCONFIG-SECRET-0b8e"
SPA_DOTFILE = b"SPA-DOTFILE-SECRET-2c7d"
SECRETS = (OUTSIDE, SIBLING, SIBLING_INDEX, DOTENV, GITCONFIG, SPA_DOTFILE)

HELLO = b"hello static\n"
DOCS_INDEX = b"<h1>docs index</h1>"
SPA_SHELL = b"<!doctype html><div id=app>SPA-SHELL</div>"
NOT_FOUND = b'{"detail":"Not Found"}'


@dataclass
class Tree:
    base: Path
    static: Path
    spa: Path
    big: bytes


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """tmp/{secret.txt, static/, static-evil/, spa/}: the served roots and what must stay hidden."""
    (tmp_path / "secret.txt").write_bytes(OUTSIDE)
    evil = tmp_path / "static-evil"
    evil.mkdir()
    (evil / "secret.txt").write_bytes(SIBLING)
    (evil / "index.html").write_bytes(SIBLING_INDEX)

    static = tmp_path / "static"
    static.mkdir()
    (static / "hello.txt").write_bytes(HELLO)
    (static / "app.js").write_bytes(b"export const answer = 42;\n")
    (static / "style.css").write_bytes(b"body { color: red }\n")
    (static / "data.json").write_bytes(b'{"a": 1}')
    (static / "logo.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    (static / "pixel.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(32)))
    (static / "blob.unknownext").write_bytes(b"\x00\x01\x02")
    (static / "noext").write_bytes(b"raw")
    (static / ".env").write_bytes(DOTENV)
    (static / ".git").mkdir()
    (static / ".git" / "config").write_bytes(GITCONFIG)
    (static / "docs").mkdir()
    (static / "docs" / "index.html").write_bytes(DOCS_INDEX)
    (static / "café").mkdir()
    (static / "café" / "index.html").write_bytes(b"accented")
    (static / "empty").mkdir()
    # A directory literally named "%2e%2e": reachable only as that name, never as "..".
    (static / "%2e%2e").mkdir()
    (static / "%2e%2e" / "literal.txt").write_bytes(b"literal percent name")
    big = os.urandom(5 * 1024 * 1024)
    (static / "big.bin").write_bytes(big)
    os.symlink(tmp_path / "secret.txt", static / "link-out.txt")
    os.symlink("../static-evil/secret.txt", static / "link-sibling.txt")
    os.symlink("../static-evil", static / "linkdir-sibling")
    os.symlink("hello.txt", static / "link-in.txt")
    os.symlink(".env", static / "link-hidden.txt")

    spa = tmp_path / "spa"
    spa.mkdir()
    (spa / "index.html").write_bytes(SPA_SHELL)
    (spa / "main.js").write_bytes(b"console.log('spa');\n")
    (spa / ".env").write_bytes(SPA_DOTFILE)
    return Tree(tmp_path, static, spa, big)


@dataclass
class Raw:
    status: int
    headers: dict[str, list[str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[-1] if values else None


def raw_request(
    server: Server, target: str, method: str = "GET", headers: dict[str, str] | None = None
) -> Raw:
    """Send ``target`` exactly as given and read the whole answer (the connection is closed)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed: dict[str, list[str]] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed.setdefault(name.strip().lower(), []).append(value.strip())
    if parsed.get("transfer-encoding") == ["chunked"]:
        body = _dechunk(body)
    return Raw(int(status_line.split()[1]), parsed, body, data)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


def assert_refused(response: Raw) -> None:
    """A refused path: a plain JSON 404 and not a byte of anything that must stay hidden."""
    assert response.status == 404, response.raw[:300]
    assert response.body == NOT_FOUND
    for secret in SECRETS:
        assert secret not in response.raw
    assert SPA_SHELL not in response.raw


def static_app(tree: Tree, **options: Any) -> App:
    app = App()
    app.mount("/assets", StaticFiles(tree.static, **options))
    return app


# media types --------------------------------------------------------------------------------


def test_guess_type_table() -> None:
    assert guess_type("index.html") == "text/html"
    assert guess_type("APP.JS") == "text/javascript; charset=utf-8"
    assert guess_type("chunk.mjs") == "text/javascript; charset=utf-8"
    assert guess_type("icon.svg") == "image/svg+xml; charset=utf-8"
    assert guess_type("data.json") == "application/json"
    assert guess_type("app.js.map") == "application/json"
    assert guess_type("mod.wasm") == "application/wasm"
    assert guess_type("font.woff2") == "font/woff2"
    assert guess_type("photo.JPEG") == "image/jpeg"
    assert guess_type("favicon.ico") == "image/vnd.microsoft.icon"
    assert guess_type("clip.webm") == "video/webm"
    assert guess_type("archive.tar.gz") == "application/gzip"
    assert guess_type("Makefile") == "application/octet-stream"
    assert guess_type("file.") == "application/octet-stream"
    assert guess_type("file.exe") == "application/octet-stream"


def test_constructor_checks(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        StaticFiles(tmp_path / "missing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        StaticFiles(tmp_path / "f")
    for bad in ("../index.html", ".index.html", "a/index.html", ""):
        with pytest.raises(ValueError):
            StaticFiles(tmp_path, index=bad)


# serving ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("hello.txt", "text/plain; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("data.json", "application/json"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("pixel.png", "image/png"),
        ("blob.unknownext", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ],
)
def test_files_have_their_type_and_body(serve: Serve, tree: Tree, name: str, content_type: str) -> None:
    server = serve(static_app(tree))
    r = httpx.get(f"{server.url}/assets/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"] == content_type
    assert r.content == (tree.static / name).read_bytes()
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["x-content-type-options"] == "nosniff"


def test_query_string_is_ignored_for_lookup(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    r = httpx.get(f"{server.url}/assets/hello.txt?v=123")
    assert r.status_code == 200
    assert r.content == HELLO


def test_head_has_headers_and_no_body(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    got = httpx.get(f"{server.url}/assets/hello.txt")
    r = raw_request(server, "/assets/hello.txt", "HEAD")
    assert r.status == 200
    assert r.header("content-length") == str(len(HELLO))
    assert r.header("content-type") == "text/plain; charset=utf-8"
    assert r.header("etag") == got.headers["etag"]
    assert r.header("last-modified") == got.headers["last-modified"]
    assert r.header("cache-control") == "no-cache"
    assert r.body == b""


def test_missing_file_is_json_404(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    r = httpx.get(f"{server.url}/assets/app-missing.js")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}
    r = httpx.get(f"{server.url}/assets/hello.txt/")
    assert r.status_code == 404


def test_large_file_arrives_intact(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    with httpx.Client(timeout=30) as client, client.stream("GET", f"{server.url}/assets/big.bin") as r:
        assert r.status_code == 200
        assert r.headers["content-length"] == str(len(tree.big))
        digest = hashlib.sha256()
        received = 0
        for chunk in r.iter_bytes():
            digest.update(chunk)
            received += len(chunk)
    assert received == len(tree.big)
    assert digest.hexdigest() == hashlib.sha256(tree.big).hexdigest()


def test_fifo_is_not_served(serve: Serve, tree: Tree) -> None:
    fifo = tree.static / "pipe"
    os.mkfifo(fifo)

    def writer() -> None:
        # a server that opened the FIFO would read this and answer 200 instead of hanging
        with open(fifo, "wb") as f:
            f.write(OUTSIDE)

    feeder = threading.Thread(target=writer, daemon=True)
    feeder.start()
    try:
        server = serve(static_app(tree))
        assert_refused(raw_request(server, "/assets/pipe"))
    finally:
        unblock = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer finish
        feeder.join(5)
        os.close(unblock)


# caching --------------------------------------------------------------------------------------


def test_etag_and_if_none_match(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    url = f"{server.url}/assets/hello.txt"
    first = httpx.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and etag.endswith('"')
    r = httpx.get(url, headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    assert r.headers["cache-control"] == "no-cache"
    # a list, a strong form of the same tag and * all match; another tag does not
    assert httpx.get(url, headers={"if-none-match": f'"nope", {etag}'}).status_code == 304
    assert httpx.get(url, headers={"if-none-match": etag[2:]}).status_code == 304
    assert httpx.get(url, headers={"if-none-match": "*"}).status_code == 304
    other = httpx.get(url, headers={"if-none-match": '"nope"'})
    assert other.status_code == 200
    assert other.content == HELLO


def test_etag_changes_when_the_file_changes(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    url = f"{server.url}/assets/hello.txt"
    etag = httpx.get(url).headers["etag"]
    (tree.static / "hello.txt").write_bytes(b"new content, new size\n")
    r = httpx.get(url, headers={"if-none-match": etag})
    assert r.status_code == 200
    assert r.content == b"new content, new size\n"
    assert r.headers["etag"] != etag


def test_if_modified_since(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    url = f"{server.url}/assets/hello.txt"
    last_modified = httpx.get(url).headers["last-modified"]
    r = httpx.get(url, headers={"if-modified-since": last_modified})
    assert r.status_code == 304
    assert r.content == b""
    assert httpx.get(url, headers={"if-modified-since": formatdate(2**31, usegmt=True)}).status_code == 304
    old = httpx.get(url, headers={"if-modified-since": "Mon, 01 Jan 1990 00:00:00 GMT"})
    assert old.status_code == 200
    assert old.content == HELLO
    garbage = httpx.get(url, headers={"if-modified-since": "not a date"})
    assert garbage.status_code == 200
    # If-None-Match wins over If-Modified-Since
    both = httpx.get(url, headers={"if-none-match": '"nope"', "if-modified-since": last_modified})
    assert both.status_code == 200


def test_head_304_has_no_body_and_no_false_length(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    etag = httpx.get(f"{server.url}/assets/hello.txt").headers["etag"]
    r = raw_request(server, "/assets/hello.txt", "HEAD", {"If-None-Match": etag})
    assert r.status == 304
    assert r.body == b""
    # HTTP allows a Content-Length on a 304 only if it equals the full response's length
    assert r.headers.get("content-length", [str(len(HELLO))]) == [str(len(HELLO))]
    # the connection stays usable: a 304 to GET then a 200 on the same keep-alive connection
    with httpx.Client() as client:
        assert (
            client.get(f"{server.url}/assets/hello.txt", headers={"if-none-match": etag}).status_code == 304
        )
        assert client.get(f"{server.url}/assets/hello.txt").content == HELLO


@pytest.mark.parametrize(
    ("option", "expected"), [("no-cache", "no-cache"), ("public, max-age=60", "public, max-age=60")]
)
def test_cache_control(serve: Serve, tree: Tree, option: str, expected: str) -> None:
    server = serve(static_app(tree, cache_control=option))
    assert httpx.get(f"{server.url}/assets/hello.txt").headers["cache-control"] == expected


def test_cache_control_none(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree, cache_control=None))
    r = httpx.get(f"{server.url}/assets/hello.txt")
    assert r.status_code == 200
    assert "cache-control" not in r.headers


# containment ----------------------------------------------------------------------------------

TRAVERSALS = [
    "/assets/../secret.txt",
    "/assets/docs/../../secret.txt",
    "/assets/%2e%2e/secret.txt",
    "/assets/%2E%2E/secret.txt",
    "/assets/.%2e/secret.txt",
    "/assets/%252e%252e/secret.txt",
    "/assets/%252e%252e%252fsecret.txt",
    "/assets/..%2fsecret.txt",
    "/assets/..%2Fsecret.txt",
    "/assets/..\\secret.txt",
    "/assets/..%5csecret.txt",
    "/assets/docs\\..\\..\\secret.txt",
    "/assets/../static-evil/secret.txt",
    "/assets/%2e%2e/static-evil/secret.txt",
    "/assets/%2e%2e/static-evil/index.html",
    "/assets/hello.txt%00.png",
    "/assets/%00../secret.txt",
    "/assets//etc/passwd",
    "/assets/%2Fetc%2Fpasswd",
    "/assets/C:/secret.txt",
    "/assets/C:%5csecret.txt",
    "/assets/hello.txt::$DATA",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_is_refused(serve: Serve, tree: Tree, target: str) -> None:
    server = serve(static_app(tree))
    assert_refused(raw_request(server, target))
    head = raw_request(server, target, "HEAD")
    assert head.status == 404
    assert head.body == b""


def test_absolute_path_to_a_real_file_is_refused(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    absolute = str(tree.base / "secret.txt")
    assert_refused(raw_request(server, "/assets/" + absolute.replace("/", "%2F")))
    assert_refused(raw_request(server, "/assets/" + absolute))


def test_double_encoding_is_only_a_literal_name(serve: Serve, tree: Tree) -> None:
    # the server decodes once: %252e%252e is the name "%2e%2e", never ".."
    server = serve(static_app(tree))
    r = raw_request(server, "/assets/%252e%252e/literal.txt")
    assert r.status == 200
    assert r.body == b"literal percent name"
    assert_refused(raw_request(server, "/assets/%252e%252e/../secret.txt"))


def test_symlinks_outside_the_root_are_refused(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    assert_refused(raw_request(server, "/assets/link-out.txt"))
    # static-evil starts with "static": a string-prefix check would let these through
    assert_refused(raw_request(server, "/assets/link-sibling.txt"))
    assert_refused(raw_request(server, "/assets/linkdir-sibling/secret.txt"))
    assert_refused(raw_request(server, "/assets/linkdir-sibling/"))
    # a link to a hidden file inside the root is hidden too
    assert_refused(raw_request(server, "/assets/link-hidden.txt"))
    # a link that stays inside the root is fine, typed by the requested name
    r = httpx.get(f"{server.url}/assets/link-in.txt")
    assert r.status_code == 200
    assert r.content == HELLO


def test_follow_symlinks_trusts_links_but_not_requests(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree, follow_symlinks=True))
    r = httpx.get(f"{server.url}/assets/link-out.txt")
    assert r.status_code == 200
    assert r.content == OUTSIDE
    assert httpx.get(f"{server.url}/assets/linkdir-sibling/secret.txt").content == SIBLING
    for target in ("/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/.env"):
        assert_refused(raw_request(server, target))


@pytest.mark.parametrize(
    "target",
    [
        "/assets/.env",
        "/assets/.git/config",
        "/assets/.git/",
        "/assets/.git",
        "/assets/./hello.txt",
        "/assets/docs/./index.html",
    ],
)
def test_dotfiles_are_hidden(serve: Serve, tree: Tree, target: str) -> None:
    server = serve(static_app(tree))
    assert_refused(raw_request(server, target))


# directories ----------------------------------------------------------------------------------


def test_directory_index(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    r = httpx.get(f"{server.url}/assets/docs/")
    assert r.status_code == 200
    assert r.content == DOCS_INDEX
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "etag" in r.headers


def test_directory_without_slash_redirects(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    r = raw_request(server, "/assets/docs?page=2")
    assert r.status == 308
    assert r.header("location") == "/assets/docs/?page=2"
    r = raw_request(server, "/assets/caf%C3%A9")
    assert r.status == 308
    assert r.header("location") == "/assets/caf%C3%A9/"
    followed = httpx.get(f"{server.url}/assets/café", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.content == b"accented"


def test_directory_without_index_is_404(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree))
    for target in ("/assets/empty/", "/assets/empty", "/assets/", "/assets"):
        assert_refused(raw_request(server, target))


def test_index_none_disables_directories(serve: Serve, tree: Tree) -> None:
    server = serve(static_app(tree, index=None))
    assert_refused(raw_request(server, "/assets/docs/"))
    assert_refused(raw_request(server, "/assets/docs"))
    assert httpx.get(f"{server.url}/assets/docs/index.html").content == DOCS_INDEX


# methods --------------------------------------------------------------------------------------


def test_post_to_a_static_path(serve: Serve, tree: Tree) -> None:
    # App hands only GET/HEAD to mounts; any other method on an unrouted path is a 404.
    server = serve(static_app(tree))
    r = httpx.post(f"{server.url}/assets/hello.txt", content=b"x")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}
    assert HELLO not in r.content


def test_handle_answers_405_for_other_methods(serve: Serve, tree: Tree) -> None:
    static = StaticFiles(tree.static)
    app = App()

    async def delegate(request: Request) -> Any:
        return await static.handle(request, request.path_params["name"])

    app.add_route("POST", "/direct/{name}", delegate)
    app.add_route("GET", "/direct/{name}", delegate)
    server = serve(app)
    r = httpx.post(f"{server.url}/direct/hello.txt")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert HELLO not in r.content
    assert httpx.get(f"{server.url}/direct/hello.txt").content == HELLO


# single-page apps -----------------------------------------------------------------------------


def spa_app(tree: Tree) -> App:
    app = App()
    app.mount("/assets", StaticFiles(tree.static))
    app.mount("/spa", StaticFiles(tree.spa, spa_fallback="index.html"))
    return app


def test_spa_fallback_serves_the_shell_for_client_routes(serve: Serve, tree: Tree) -> None:
    server = serve(spa_app(tree))
    for path in ("/spa/settings/profile", "/spa/users/42", "/spa/missing.js"):
        r = httpx.get(server.url + path)
        assert r.status_code == 200, path
        assert r.content == SPA_SHELL
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    real = httpx.get(f"{server.url}/spa/main.js")
    assert real.content == b"console.log('spa');\n"
    assert real.headers["content-type"] == "text/javascript; charset=utf-8"
    assert httpx.get(f"{server.url}/spa/").content == SPA_SHELL
    root = raw_request(server, "/spa")
    assert root.status == 308
    assert root.header("location") == "/spa/"
    # a mount without spa_fallback still answers 404 for a missing asset
    missing = httpx.get(f"{server.url}/assets/app.js.missing")
    assert missing.status_code == 404
    assert SPA_SHELL not in missing.content


def test_spa_fallback_conditional(serve: Serve, tree: Tree) -> None:
    server = serve(spa_app(tree))
    etag = httpx.get(f"{server.url}/spa/anything").headers["etag"]
    r = httpx.get(f"{server.url}/spa/something/else", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""


@pytest.mark.parametrize(
    "target",
    [
        "/spa/.env",
        "/spa/../static-evil/index.html",
        "/spa/%2e%2e/static-evil/index.html",
        "/spa/%2e%2e/static-evil/secret.txt",
        "/spa/..%2fsecret.txt",
        "/spa/..\\static-evil\\index.html",
        "/spa/x%00",
        "/spa//etc/passwd",
    ],
)
def test_spa_fallback_never_answers_probes(serve: Serve, tree: Tree, target: str) -> None:
    server = serve(spa_app(tree))
    assert_refused(raw_request(server, target))


def test_spa_fallback_handler_for_the_whole_app(serve: Serve, tree: Tree) -> None:
    app = App()
    app.mount("/assets", StaticFiles(tree.static))
    app.fallback = spa_fallback_handler(tree.spa / "index.html")

    @app.get("/api/ping")
    async def ping(request: Request) -> dict[str, str]:
        return {"ping": "pong"}

    server = serve(app)
    for path in ("/", "/dashboard", "/users/42/edit"):
        r = httpx.get(server.url + path)
        assert r.status_code == 200, path
        assert r.content == SPA_SHELL
        assert r.headers["content-type"] == "text/html; charset=utf-8"
    head = raw_request(server, "/dashboard", "HEAD")
    assert head.status == 200
    assert head.header("content-length") == str(len(SPA_SHELL))
    assert head.body == b""
    assert httpx.get(f"{server.url}/api/ping").json() == {"ping": "pong"}
    assert httpx.get(f"{server.url}/assets/hello.txt").content == HELLO
    assert httpx.get(f"{server.url}/assets/missing.js").status_code == 404
    # only GET/HEAD reach the fallback
    assert httpx.post(f"{server.url}/dashboard").status_code == 404
    for target in ("/.env", "/../secret.txt", "/%2e%2e/static-evil/index.html", "/a\\b", "//x"):
        assert_refused(raw_request(server, target))


def test_spa_fallback_handler_missing_file(serve: Serve, tree: Tree) -> None:
    app = App()
    app.fallback = spa_fallback_handler(tree.spa / "gone.html")
    server = serve(app)
    assert_refused(raw_request(server, "/dashboard"))

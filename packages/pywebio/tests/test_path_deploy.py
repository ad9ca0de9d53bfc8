"""path_deploy: the URL rules (no network), then a real server and the CLI's options."""

from __future__ import annotations

import importlib
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from browserclient import BrowserClient, fetch_page

from pywebio.platform.tornado import ServerThread

# the module, not the function ``pywebio.platform.path_deploy`` that shadows it as an attribute
pd = importlib.import_module("pywebio.platform.path_deploy")

APP = '''
from pywebio.session import get_current_session
from helper import GREETING

def main():
    """{title}

    {desc}"""
    spec = {{"type": "text", "content": GREETING + " {text}"}}
    get_current_session().send_task_command({{"command": "output", "spec": spec}})
'''


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path / "helper.py", "GREETING = 'hello'\n")
    write(tmp_path / "c.py", APP.format(title="C app", desc="Does C.", text="c"))
    write(tmp_path / "my app.py", APP.format(title="Spaced", desc="", text="spaced"))
    write(tmp_path / "A" / "a.py", "from pywebio.session import get_current_session\nmain = {}\n")
    write(tmp_path / "A" / "helper.py", "GREETING = 'hi from A'\n")
    write(tmp_path / "A" / "b.py", APP.format(title="B app", desc="Does B.", text="b"))
    write(tmp_path / "A" / "notapp.py", "x = 1\n")
    write(tmp_path / "_hidden.py", APP.format(title="H", desc="", text="h"))
    write(tmp_path / "_private" / "x.py", APP.format(title="X", desc="", text="x"))
    write(tmp_path / ".dot" / "y.py", APP.format(title="Y", desc="", text="y"))
    write(tmp_path / "D" / "helper.py", "GREETING = 'hello'\n")
    write(tmp_path / "D" / "index.py", APP.format(title="D index", desc="", text="d-index"))
    write(tmp_path / "multi.py", (
        "from pywebio.session import get_current_session\n"
        "def say(text):\n"
        "    get_current_session().send_task_command({'command': 'output', 'spec': {'content': text}})\n"
        "def one():\n    say('one')\n"
        "def two():\n    say('two')\n"
        "main = [one, two]\n"
    ))  # fmt: skip
    return tmp_path


def test_resolve_rules(tree: Path) -> None:
    base = str(tree)
    assert pd.resolve(base, "/c").kind == "app" and pd.resolve(base, "/c").file == str(tree / "c.py")
    assert pd.resolve(base, "/A/b").file == str(tree / "A" / "b.py")
    assert pd.resolve(base, "/_hidden").kind == "forbidden"
    assert pd.resolve(base, "/_private/x").kind == "forbidden"
    assert pd.resolve(base, "/.dot/y").kind == "forbidden"
    assert pd.resolve(base, "/../etc/passwd").kind == "forbidden"
    assert pd.resolve(base, "/A/../../x").kind == "forbidden"
    assert pd.resolve(base, "/").kind == "index" and pd.resolve(base, "/A/").kind == "index"
    assert pd.resolve(base, "/A").kind == "redirect" and pd.resolve(base, "/A").location == "/A/"
    assert pd.resolve(base, "/D/").file == str(tree / "D" / "index.py")
    assert pd.resolve(base, "/nope").kind == "missing" and pd.resolve(base, "/nope/").kind == "missing"


def test_index_page_lists_visible_apps_and_dirs(tree: Path) -> None:
    root = pd.index_page(str(tree), str(tree))
    assert "Index of /" in root and 'href="A/"' in root and 'href="c"' in root and "Does C." not in root
    assert "C app" in root  # the first paragraph of main's docstring
    assert "_hidden" not in root and "_private" not in root and ".dot" not in root and "../" not in root
    sub = pd.index_page(str(tree), str(tree / "A"))
    assert "Index of /A/" in sub and 'href="../"' in sub and 'href="a"' in sub and 'href="b"' in sub
    assert "notapp" not in sub  # no main


@pytest.fixture
def deployed(tree: Path) -> Any:
    server = ServerThread(str(tree), factory=pd.make_app).start()
    yield server
    server.stop()


def test_served_apps_hidden_files_and_sibling_imports(deployed: Any) -> None:
    url = deployed.url
    status, body = fetch_page(url + "A/b")
    assert status == 200 and "<title>B app</title>" in body and 'src="/_pywebio_static/js/pywebio.js' in body
    with BrowserClient(url + "A/b") as b:
        b.expect_text("hi from A b")  # A/helper.py, not the top-level helper
    with BrowserClient(url + "c") as b:
        b.expect_text("hello c")
    with BrowserClient(url + "my%20app") as b:
        b.expect_text("hello spaced")
    with BrowserClient(url + "multi", app="two") as b:
        b.expect_text("two")
    with BrowserClient(url + "D/") as b:
        b.expect_text("hello d-index")
    assert fetch_page(url + "_hidden")[0] == 403
    assert fetch_page(url + "%5Fhidden")[0] == 403  # percent-encoding does not unhide
    assert fetch_page(url + "A/%2E%2E/%2E%2E/etc/passwd")[0] in (403, 404)
    assert fetch_page(url + "_private/x")[0] == 403
    assert fetch_page(url + "nope")[0] == 404
    assert fetch_page(url + "A/notapp")[0] == 404
    status, body = fetch_page(url)
    assert status == 200 and "Index of /" in body
    from pywebio import STATIC_PATH

    if os.path.isfile(os.path.join(STATIC_PATH, "js", "pywebio.js")):
        assert fetch_page(url + "_pywebio_static/js/pywebio.js")[0] == 200  # assets, though "_"-named


def test_reload_picks_up_changes(deployed: Any, tree: Path) -> None:
    url = deployed.url
    with BrowserClient(url + "c") as b:
        b.expect_text("hello c")
    write(tree / "c.py", APP.format(title="C app", desc="", text="changed"))
    with BrowserClient(url + "c") as b:
        b.expect_text("hello c")  # cached until ?reload
    assert fetch_page(url + "c?reload")[0] == 200
    with BrowserClient(url + "c") as b:
        b.expect_text("hello changed")


def test_index_false_and_callable(tree: Path) -> None:
    cases = ((False, 403, "403 Forbidden"), (lambda path: f"<p>custom {path!r}</p>", 200, "custom 'A'"))
    for index, code, expected in cases:
        server = ServerThread(str(tree), factory=pd.make_app, index=index).start()
        try:
            status, body = fetch_page(server.url + "A/")
            assert status == code and expected in body
        finally:
            server.stop()


def test_cli_help_and_bad_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        pd.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--no-index" in out and "--websocket-max-message-size" in out and "-h HOST" in out
    with pytest.raises(SystemExit) as e:
        pd.main([str(tmp_path / "missing")])
    assert e.value.code == 2


def test_cli_starts_a_server(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(pd, "path_deploy", lambda base, **kw: seen.update(base=base, **kw))
    pd.main([str(tree), "-p", "0", "-h", "127.0.0.1", "--no-index", "--websocket-max-message-size", "4M"])
    assert seen["base"] == str(tree) and seen["port"] == 0 and seen["host"] == "127.0.0.1"
    assert seen["index"] is False and seen["max_payload_size"] == "4M"
    assert os.path.isdir(seen["base"])


def test_public_names_are_the_functions() -> None:
    from pywebio.platform import path_deploy, path_deploy_http

    assert callable(path_deploy) and callable(path_deploy_http)
    assert path_deploy is pd.path_deploy

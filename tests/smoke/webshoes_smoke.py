"""Installed alone from its wheel (with wirecore), webshoes serves and the basic demo passes.

Runs packages/webshoes/demo/basic/basic.py from the source tree with this interpreter (the
wheel's install, without the repository's packages on the path) on a free port, and checks
the lines it prints against the README's expected output; then serves the JS client.
"""

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import webshoes

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "packages" / "webshoes" / "demo" / "basic" / "basic.py"

assert "site-packages" in webshoes.__file__, webshoes.__file__  # the wheel, not the source tree
out = subprocess.run(
    [sys.executable, str(DEMO), "--port", "0"], capture_output=True, text=True, timeout=60, cwd="/"
)
assert out.returncode == 0, out.stderr
lines = out.stdout.splitlines()
expected = [
    r"--- HTTP ---",
    r'GET /cmd/add\?a=2&b=3 → \{"result": 5\}',
    r'POST /cmd/add \{a:10, b:20\} → \{"result": 30\}',
    r"--- WebSocket ---",
    r"cmd/add \{a:2, b:3\} → \{'r': \{'result': 5\}, 't': \.\.\.\}",
    r"cmd/add with tid → \{'r': \{'result': 9\}, 'tid': 'req-001', 't': \.\.\.\}",
]
for pattern in expected:
    assert any(re.fullmatch(pattern, line) for line in lines), (pattern, lines)

app = webshoes.WebShoesApp("127.0.0.1", 0)
app.register("webshoes", "", "", "", "", {"*": {"root": webshoes.libPath("web")}})
app.start()
try:
    with urllib.request.urlopen(f"{app.url}/webshoes/webshoes.js", timeout=5) as r:
        assert r.status == 200 and b"WebShoes" in r.read()
finally:
    app.stop()
print(f"webshoes {webshoes.__version__}: basic demo and JS client OK")

"""Every session the project has: tests, lint, types, docs, wheels, bench, bench_webshoes,
bench_scaleout, bench_pgwidgets, bench_pywebio, pywebio_backends, demo.

`python3 -m nox` runs the default set (what CI runs: lint, types, tests, pywebio_backends, wheels,
docs); `nox -s bench` and `nox -s demo` on demand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = {  # distribution name -> folder
    "wirecore": "packages/core",
    "wesktop": "packages/wesktop",
    "webshoes": "packages/webshoes",
    "pywebio": "packages/pywebio",
    "pgwidgets": "packages/pgwidgets",
}
# pgwidgets' browser side. Its wheel declares Requires-Python >=3.12 but holds only data and
# JavaScript, so on 3.11 it is installed first with --ignore-requires-python (uv has no such switch).
PGWIDGETS_JS = "pgwidgets-js>=0.4.2,<0.5"
# the frameworks pywebio's optional backends run on (its extras)
PYWEBIO_FRAMEWORKS = ["flask", "django", "aiohttp", "fastapi", "uvicorn[standard]"]
TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-timeout",
    "httpx",
    "websockets>=13",
    "hypothesis",
    # a real pywebview window: Qt with QtWebEngine, shown on Xvfb and read back with python-xlib
    "pywebview>=5",
    "qtpy",
    "PySide6>=6.5",
    "python-xlib",
    # the browser end-to-end tests drive Debian's Chromium (no browser download)
    "playwright",
    # the Redis backplane's tests talk to a real redis-server
    "redis>=5.0.1",
    # pywebio's backends mounted into real host apps (each also runs alone in pywebio_backends)
    *PYWEBIO_FRAMEWORKS,
]
# Debian packages the tests need: Xvfb and what Qt's xcb platform and QtWebEngine load,
# desktop-file-utils to validate .desktop files, gio to launch them.
SYSTEM_DEPS = [
    "chromium",
    "xvfb", "desktop-file-utils", "libglib2.0-bin", "fonts-dejavu-core",
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-randr0", "libxcb-xkb1", "libxkbcommon-x11-0", "libx11-xcb1",
    "libxcomposite1", "libxdamage1", "libxrandr2", "libxtst6", "libxkbfile1", "libnss3",
    "libasound2", "libegl1", "libgl1", "libgl1-mesa-dri", "libgbm1", "libdbus-1-3", "libfontconfig1",
    # the Redis backplane's tests start their own redis-server on a free port
    "redis-server",
]

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "types", "tests", "pywebio_backends", "wheels", "docs"]
nox.options.reuse_existing_virtualenvs = True


def install_system_deps(session: nox.Session, packages: list[str]) -> None:
    """apt-get install what is missing (CI machines start bare; we are root there)."""
    missing = [
        p
        for p in packages
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        session.error(f"please install these Debian packages first: {' '.join(missing)}")
    session.run("apt-get", "update", "-qq", external=True)
    session.run(
        "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing,
        external=True, env={"DEBIAN_FRONTEND": "noninteractive"},
    )


def install_packages(session: nox.Session) -> None:
    session.install("pip")
    session.run("python", "-m", "pip", "install", "-q", "--ignore-requires-python", PGWIDGETS_JS)
    session.install(*(f"-e{ROOT / folder}" for name, folder in PACKAGES.items() if name != "pgwidgets"))
    # its dependencies are in place now: wirecore above, pgwidgets-js by pip
    session.install("--no-deps", f"-e{ROOT / PACKAGES['pgwidgets']}")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Every package's own tests plus the cross-package tests in tests/."""
    install_system_deps(session, SYSTEM_DEPS)
    install_packages(session)
    session.install(*TEST_DEPS)
    paths = [f"{folder}/tests" for folder in PACKAGES.values()] + ["tests"]
    # on CI every desktop prerequisite is installed above: a missing one is a failure, not a skip
    session.run(
        "pytest", *paths, *session.posargs,
        env={"WESKTOP_REQUIRE_DESKTOP": "1", "WIRE_REQUIRE_BROWSER": "1"},
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "packages", "tests", "bench", "examples", "noxfile.py")


@nox.session(python="3.11")
def types(session: nox.Session) -> None:
    """mypy over every package, strict for wirecore and webshoes (configured in the root pyproject.toml)."""
    install_packages(session)
    session.install("mypy", *PYWEBIO_FRAMEWORKS)  # pywebio's backends are checked against them
    session.run("mypy", *(f"{folder}/src/{name}" for name, folder in PACKAGES.items()))


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    session.install("mkdocs>=1.6")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / ".nox" / "site"))


@nox.session(python="3.11")
def wheels(session: nox.Session) -> None:
    """Build every wheel into one folder, then install each package alone in a fresh venv
    from that folder (plus PyPI for third-party deps) and run its smoke check."""
    dist = ROOT / ".nox" / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.install("build")
    for folder in PACKAGES.values():
        session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT / folder))
    # Pin our own packages to the wheels just built: PyPI may hold other projects' releases
    # under the same names (wesktop, pywebio...), and pip must never pick those.
    wheels = {w.name.split("-")[0]: w for w in dist.glob("*.whl")}
    constraints = dist / "constraints.txt"
    constraints.write_text("".join(f"{n}=={w.name.split('-')[1]}\n" for n, w in wheels.items()))
    for name in PACKAGES:
        venv = ROOT / ".nox" / f"alone-{name}"
        shutil.rmtree(venv, ignore_errors=True)
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
        py = str(venv / "bin" / "python")
        if name == "pgwidgets":
            session.run(
                py, "-m", "pip", "install", "-q", "--ignore-requires-python", PGWIDGETS_JS, external=True
            )
        session.run(
            py, "-m", "pip", "install", "-q", "--find-links", str(dist), "-c", str(constraints),
            str(wheels[name]), external=True,
        )
        session.run(py, str(ROOT / "tests" / "smoke" / f"{name}_smoke.py"), external=True)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers; results and charts land in docs/. Never pass/fail."""
    install_system_deps(session, ["wrk"])
    install_packages(session)
    session.install("-r", "bench/requirements.txt")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session(python="3.11")
def bench_webshoes(session: nox.Session) -> None:
    """webshoes against the original webshoes 1.0.0 (HTTP calls, WebSocket calls, event fan-out);
    results and chart land in docs/. Never pass/fail."""
    install_system_deps(session, ["wrk"])
    install_packages(session)
    session.install("-r", "bench/requirements.txt")
    session.run("python", "bench/webshoes_bench.py", *session.posargs)


@nox.session(python="3.11")
def bench_scaleout(session: nox.Session) -> None:
    """SSE fan-out to 1,000 clients: 2 granian workers over the Redis backplane against 1 worker
    in-process (bench/scaleout_bench.py); results and chart land in docs/benchmarks.md. Never pass/fail."""
    install_system_deps(session, ["redis-server", "wrk"])
    install_packages(session)
    session.install("-r", "bench/requirements.txt")
    session.run("python", "bench/scaleout_bench.py", *session.posargs)


@nox.session(python="3.11")
def bench_pgwidgets(session: nox.Session) -> None:
    """pgwidgets against the original pgwidgets-python 0.4.2: creating 1,000 widgets, rebuilding them
    for a reconnecting browser, callback round trips; results land in docs/pgwidgets.md. Never pass/fail."""
    install_packages(session)
    session.install("-r", "bench/requirements.txt")
    session.run("python", "bench/pgwidgets_bench.py", *session.posargs)


@nox.session(python="3.11")
def bench_pywebio(session: nox.Session) -> None:
    """pywebio on every backend against the original pywebio 1.8.4 on tornado and on flask: sessions
    opened/s, outputs/s, memory per open session; results and chart land in docs/. Never pass/fail."""
    install_packages(session)
    session.install("-r", "bench/requirements.txt", *PYWEBIO_FRAMEWORKS)
    session.run("python", "bench/pywebio_bench.py", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The project's main job: the wesktop dashboard on http://127.0.0.1:8000 (headless; add
    `-- --window` for a native window, which needs wesktop[desktop] and a display)."""
    install_packages(session)
    session.run("python", "examples/wesktop_dashboard/app.py", *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("backend", ["tornado", "tornado_http", "wirecore", "flask", "django", "aiohttp", "fastapi"])
def pywebio_backends(session: nox.Session, backend: str) -> None:
    """The pywebio backend matrix (issue 6): the same apps and Playwright script on one backend, in a
    venv holding only that framework; the commands the browser received must match the golden transcript."""
    install_system_deps(session, ["chromium"])
    extra = "" if backend in ("tornado", "tornado_http", "wirecore") else f"[{backend}]"
    session.install("-e", str(ROOT / PACKAGES["wirecore"]))
    session.install("-e", f"{ROOT / PACKAGES['pywebio']}{extra}")
    session.install("pytest>=8", "pytest-asyncio>=0.23", "pytest-timeout", "playwright")
    session.run("pytest", "packages/pywebio/matrix", "-q", *session.posargs, env={"PYWEBIO_BACKEND": backend})

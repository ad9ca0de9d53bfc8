"""The HTML page that boots the front end (INTERNALS.md, Contract 2), and ``config()``.

Assets are always served by our own server from the package's ``html/`` directory: ``cdn=True``
(the original's default) is accepted and means "local", so an offline user never gets a blank
page. A string ``cdn`` is taken as the base URL of a copy of the assets hosted elsewhere.
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..utils import get_function_attr, get_function_doc

__all__ = ["AppMeta", "app_meta", "config", "render_page", "static_base"]

logger = logging.getLogger("pywebio")

THEMES = ("default", "dark", "sketchy", "minty", "yeti")
DEFAULT_TITLE = "PyWebIO Application"
_CONFIG_KEYS = ("title", "description", "theme", "js_code", "js_file", "css_style", "css_file", "manifest")
_ATTR = "_pywebio_config"

_global_config: dict[str, Any] = {}


@dataclass
class AppMeta:
    """The page settings of one app, after precedence (decorator > docstring > global config)."""

    title: str = DEFAULT_TITLE
    description: str = ""
    theme: str = "default"
    js_code: str | None = None
    js_file: list[str] = field(default_factory=list)
    css_style: str | None = None
    css_file: list[str] = field(default_factory=list)
    manifest: bool | dict[str, Any] = True
    title_set: bool = False


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else list(value)


class _Config:
    """What ``config(...)`` returns: a decorator, or, when discarded unused, the global config."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.used = False

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        self.used = True
        wrapper: Callable[..., Any]
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                return await func(*args, **kwargs)

        elif inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return (yield from func(*args, **kwargs))

        else:

            @functools.wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return func(*args, **kwargs)

        merged = {**getattr(func, _ATTR, {}), **self.settings}
        setattr(wrapper, _ATTR, merged)
        return wrapper

    def __del__(self) -> None:
        if not self.used:
            _global_config.update(self.settings)


def config(
    *,
    title: str | None = None,
    description: str | None = None,
    theme: str | None = None,
    js_code: str | None = None,
    js_file: str | list[str] = [],  # noqa: B006 - the documented signature
    css_style: str | None = None,
    css_file: str | list[str] = [],  # noqa: B006
    manifest: bool | dict[str, Any] = True,
) -> Any:
    """Page settings: as a decorator for one app, or called on its own for every app.

    ``theme`` is one of ``default, dark, sketchy, minty, yeti`` (env ``PYWEBIO_THEME`` wins);
    ``js_file``/``css_file`` take a URL or a list of them; ``manifest`` (PWA) may be a dict of
    fields to override (``icon`` sets the touch icon) or False.
    """
    if theme is not None and theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    given = {
        "title": title,
        "description": description,
        "theme": theme,
        "js_code": js_code,
        "js_file": _as_list(js_file) or None,
        "css_style": css_style,
        "css_file": _as_list(css_file) or None,
        "manifest": None if manifest is True else manifest,
    }
    return _Config({k: v for k, v in given.items() if v is not None})


def app_meta(app: Callable[..., Any] | None) -> AppMeta:
    """The settings of ``app``: its ``@config`` values, then its docstring (first paragraph is the
    title, the rest the description), then the global ``config()``."""
    settings = dict(_global_config)
    doc_title = doc_desc = None
    if app is not None:
        doc = get_function_doc(app).strip()
        if doc:
            head, _, rest = doc.partition("\n\n")
            doc_title = " ".join(head.split())
            doc_desc = rest.strip() or None
        if doc_title:
            settings["title"] = doc_title
        if doc_desc:
            settings["description"] = doc_desc
        settings.update(get_function_attr(app, [_ATTR]).get(_ATTR, {}))
    meta = AppMeta(title_set="title" in settings)
    for key in _CONFIG_KEYS:
        if key in settings:
            setattr(meta, key, settings[key])
    env_theme = os.environ.get("PYWEBIO_THEME")
    if env_theme:
        if env_theme in THEMES:
            meta.theme = env_theme
        else:
            logger.warning("PYWEBIO_THEME=%r is not a theme (%s): ignored", env_theme, ", ".join(THEMES))
    return meta


def static_base(cdn: bool | str, default: str = "") -> str:
    """The assets URL prefix: ``default`` (our own server) unless ``cdn`` is a URL string."""
    if isinstance(cdn, str) and cdn:
        return cdn.rstrip("/") + "/"
    return default


_FAVICON = "data:image/svg+xml," + quote(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" '
    'fill="#1f6feb"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff" '
    'font-family="sans-serif">W</text></svg>'
)


def _manifest(meta: AppMeta) -> str | None:
    if meta.manifest is False:
        return None
    data: dict[str, Any] = {
        "name": meta.title,
        "short_name": meta.title[:12],
        "description": meta.description,
        "start_url": ".",
        "display": "standalone",
        "icons": [{"src": _FAVICON, "sizes": "any", "type": "image/svg+xml"}],
    }
    if isinstance(meta.manifest, dict):
        extra = dict(meta.manifest)
        icon = extra.pop("icon", None)
        if icon:
            data["icons"] = [{"src": icon, "sizes": "any"}]
        data.update(extra)
    return "data:application/manifest+json," + quote(json.dumps(data))


def render_page(
    app: Callable[..., Any] | None,
    protocol: str = "ws",
    cdn: bool | str = True,
    base: str = "",
) -> str:
    """The page for ``app`` using ``protocol`` (``"ws"`` or ``"http"``); assets under ``base``."""
    from .. import __version__

    meta = app_meta(app)
    esc = html.escape
    base = static_base(cdn, base)
    v = quote(__version__)
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(meta.title)}</title>",
        f'<meta name="description" content="{esc(meta.description)}">',
        f'<link rel="icon" href="{_FAVICON}">',
    ]
    manifest = _manifest(meta)
    if manifest:
        head.append(f'<link rel="manifest" href="{esc(manifest)}">')
    head.append(f'<link rel="stylesheet" href="{esc(base)}css/app.css?v={v}">')
    head += [f'<link rel="stylesheet" href="{esc(url)}">' for url in _as_list(meta.css_file)]
    if meta.css_style:
        head.append(f"<style>{meta.css_style}</style>")
    scripts = [f'<script src="{esc(base)}js/pywebio.js?v={v}"></script>']
    scripts += [f'<script src="{esc(url)}"></script>' for url in _as_list(meta.js_file)]
    scripts.append(f"<script>WebIO.startWebIOClient({{protocol: {json.dumps(protocol)}}});</script>")
    if meta.js_code:
        scripts.append(f"<script>{meta.js_code}</script>")
    theme = meta.theme if meta.theme in THEMES else "default"
    nl = "\n"
    return f"""<!doctype html>
<html lang="en">
<head>
{nl.join(head)}
</head>
<body class="webio-theme-{theme}">
<div class="pywebio">
<div id="output-container">
<div id="markdown-body" class="markdown-body">
<div id="pywebio-loading" role="status">Loading...</div>
<div id="pywebio-scope-ROOT"></div>
</div>
</div>
<div id="end-space"></div>
<div id="input-container">
<div id="input-cards"></div>
</div>
</div>
<footer class="footer">Powered by
<a href="https://github.com/pywebio/PyWebIO" target="_blank" rel="noopener">PyWebIO</a></footer>
{nl.join(scripts)}
</body>
</html>
"""

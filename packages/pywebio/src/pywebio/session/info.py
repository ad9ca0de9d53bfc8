"""Session info: who is on the other end (user agent, language, address...).

``user_agent`` is parsed by a small built-in parser that answers what apps ask of it
(``is_mobile``, ``browser.family``, ``os.family``...), without the ``user-agents`` dependency.
"""

from __future__ import annotations

import re
from typing import Any

from ..utils import ObjectDict

__all__ = ["UserAgent", "parse_user_agent", "session_info"]


class _Part:
    def __init__(self, family: str, version: tuple[int, ...] = ()) -> None:
        self.family = family
        self.version = version
        self.version_string = ".".join(str(v) for v in version)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(family={self.family!r}, version={self.version!r})"


class Browser(_Part):
    pass


class OperatingSystem(_Part):
    pass


class Device:
    def __init__(self, family: str, brand: str | None = None, model: str | None = None) -> None:
        self.family = family
        self.brand = brand
        self.model = model

    def __repr__(self) -> str:
        return f"Device(family={self.family!r}, brand={self.brand!r}, model={self.model!r})"


def _version(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    return tuple(int(p) for p in re.split(r"[._]", text) if p.isdigit())[:3]


_BROWSERS = [  # order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"
    ("Edge", r"Edg(?:e|A|iOS)?/([\d.]+)"),
    ("Opera", r"(?:OPR|Opera)/([\d.]+)"),
    ("Samsung Internet", r"SamsungBrowser/([\d.]+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/([\d.]+)"),
    ("Chrome Mobile", r"Chrome/([\d.]+) Mobile"),
    ("HeadlessChrome", r"HeadlessChrome/([\d.]+)"),
    ("Chrome", r"(?:Chrome|CriOS)/([\d.]+)"),
    ("Mobile Safari", r"Version/([\d.]+).*Mobile.*Safari"),
    ("Safari", r"Version/([\d.]+).*Safari"),
    ("IE", r"(?:MSIE |Trident/.*rv:)([\d.]+)"),
    ("Python Requests", r"python-requests/([\d.]+)"),
]
_OSES = [
    ("iOS", r"(?:iPhone|iPad|iPod).*? OS ([\d_]+)"),
    ("Android", r"Android ?([\d.]*)"),
    ("Windows", r"Windows NT ([\d.]+)"),
    ("Chrome OS", r"CrOS \S+ ([\d.]+)"),
    ("Mac OS X", r"Mac OS X ?([\d_.]*)"),
    ("Ubuntu", r"Ubuntu"),
    ("Linux", r"Linux"),
]
_BOTS = re.compile(r"bot|crawl|spider|slurp|facebookexternalhit|headless", re.I)


class UserAgent:
    """A parsed User-Agent header with the attributes of the ``user-agents`` package that apps use.

    Parsed on first use of an attribute: most apps never look, and sessions open faster.
    """

    browser: Browser
    os: OperatingSystem
    device: Device
    is_tablet: bool
    is_mobile: bool
    is_bot: bool
    is_touch_capable: bool
    is_pc: bool

    def __init__(self, ua_string: str) -> None:
        self.ua_string = ua_string or ""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "is_pc" in self.__dict__:
            raise AttributeError(name)
        self._parse()
        return getattr(self, name)

    def _parse(self) -> None:
        ua = self.ua_string
        self.browser = Browser("Other")
        for family, pattern in _BROWSERS:
            m = re.search(pattern, ua)
            if m:
                self.browser = Browser(family, _version(m.group(1) if m.groups() else None))
                break
        self.os = OperatingSystem("Other")
        for family, pattern in _OSES:
            m = re.search(pattern, ua)
            if m:
                self.os = OperatingSystem(family, _version(m.group(1) if m.groups() else None))
                break
        self.is_tablet = bool(re.search(r"iPad|Tablet|PlayBook|Silk", ua)) or (
            "Android" in ua and "Mobile" not in ua
        )
        self.is_mobile = not self.is_tablet and bool(
            re.search(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|Opera Mini", ua)
        )
        self.is_bot = bool(_BOTS.search(ua))
        self.is_touch_capable = self.is_mobile or self.is_tablet or "Touch" in ua
        if "iPhone" in ua:
            self.device = Device("iPhone", "Apple", "iPhone")
        elif "iPad" in ua:
            self.device = Device("iPad", "Apple", "iPad")
        elif self.os.family == "Mac OS X" and not (self.is_mobile or self.is_tablet):
            self.device = Device("Mac", "Apple", "Mac")
        elif self.is_mobile or self.is_tablet:
            self.device = Device("Generic Smartphone" if self.is_mobile else "Generic Tablet")
        else:
            self.device = Device("Other")
        self.is_pc = not (self.is_mobile or self.is_tablet) and self.os.family in (
            "Windows",
            "Mac OS X",
            "Linux",
            "Ubuntu",
            "Chrome OS",
        )

    def __str__(self) -> str:
        kind = "Mobile" if self.is_mobile else "Tablet" if self.is_tablet else "PC" if self.is_pc else "Other"
        browser = f"{self.browser.family} {self.browser.version_string}".strip()
        os_ = f"{self.os.family} {self.os.version_string}".strip()
        return f"{kind} / {os_} / {browser}"

    def __repr__(self) -> str:
        return f"UserAgent({self.ua_string!r})"


def parse_user_agent(ua_string: str | None) -> UserAgent:
    return UserAgent(ua_string or "")


def session_info(
    headers: Any,
    *,
    user_ip: str | None = None,
    backend: str = "",
    protocol: str = "websocket",
    request: Any = None,
) -> ObjectDict:
    """Build the ``info`` object from request headers (any mapping with case-insensitive ``get``)."""
    language = (headers.get("accept-language") or "").split(",")[0].split(";")[0].strip()
    return ObjectDict(
        user_agent=parse_user_agent(headers.get("user-agent")),
        user_language=language,
        server_host=headers.get("host") or "",
        origin=headers.get("origin") or "",
        user_ip=user_ip or "",
        request=request,
        backend=backend,
        protocol=protocol,
    )

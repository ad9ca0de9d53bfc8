"""The request object handed to every HTTP handler."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload
from urllib.parse import unquote

from . import codec
from .datastructures import Headers, QueryParams, convert
from .exceptions import BodyTooLarge, HTTPError

if TYPE_CHECKING:
    from ._transport import Transport
    from .app import App

__all__ = ["Request"]

T = TypeVar("T")
R = TypeVar("R", bound="Request")

_NO_PARAMS: dict[str, str] = {}
FROM_SCOPE: Any = object()
"""``client=FROM_SCOPE``: read the peer from the RSGI scope on first use (granian builds the
string on each access, and most handlers never look)."""


class Request:
    """One HTTP request: method, path, query, headers, cookies, client and a lazy body.

    The body is read on first ``await request.body()`` (or ``json()``), at most
    ``app.max_body_size`` bytes; past that :class:`~wirecore.BodyTooLarge` (413) is raised.
    """

    preread_body: ClassVar[frozenset[str] | None] = None
    """For a subclass whose handlers take the body as read (not awaited): the methods whose
    body is read before the handler runs (other methods' bodies only when one is declared).
    ``None``, the default: the handler reads it with ``await request.body()``."""

    __slots__ = (
        "_body",
        "_client",
        "_cookies",
        "_headers",
        "_query",
        "_query_string",
        "_raw_headers",
        "_scheme",
        "_scope",
        "_state",
        "_transport",
        "app",
        "method",
        "path",
        "path_params",
    )

    def __init__(
        self,
        app: App,
        method: str,
        path: str,
        query_string: str,
        raw_headers: Any,
        transport: Transport,
        *,
        path_params: dict[str, str] | None = None,
        scheme: str = "http",
        client: tuple[str, int] | str | None = None,
        scope: Any = None,
    ) -> None:
        self.app = app
        self.method = method
        self.path = path
        self._query_string = query_string
        self.path_params: dict[str, str] = path_params if path_params is not None else _NO_PARAMS
        self._scheme = scheme
        self._client = client
        self._raw_headers = raw_headers
        self._transport = transport
        self._scope = scope
        # _headers, _query, _cookies, _body and _state are filled on first use: a request that
        # never looks at them never pays for them.

    @property
    def query_string(self) -> str:
        """The raw query string (without ``?``)."""
        try:
            return self._query_string
        except AttributeError:  # RSGI: read from the scope on first use
            value: str = self._scope.query_string
            self._query_string = value
            return value

    @query_string.setter
    def query_string(self, value: str) -> None:
        self._query_string = value

    @property
    def scheme(self) -> str:
        """``"http"`` or ``"https"``."""
        try:
            return self._scheme
        except AttributeError:  # RSGI: read from the scope on first use
            value: str = self._scope.scheme
            self._scheme = value
            return value

    @scheme.setter
    def scheme(self, value: str) -> None:
        self._scheme = value

    @property
    def state(self) -> dict[str, Any]:
        """A per-request dict for middleware and handlers to share things in."""
        try:
            return self._state
        except AttributeError:
            self._state: dict[str, Any] = {}
            return self._state

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)``, when the server reports it."""
        c = self._client
        if c is FROM_SCOPE:
            c = self._client = self._scope.client
        if isinstance(c, str):
            from .websockets import _split_addr

            c = self._client = _split_addr(c)
        return c

    @property
    def scope(self) -> Any:
        """The raw ASGI scope dict or RSGI scope object this request came from."""
        return self._scope

    @property
    def headers(self) -> Headers:
        """Request headers, case-insensitive."""
        try:
            return self._headers
        except AttributeError:
            raw = self._raw_headers
            if isinstance(raw, list):  # ASGI: list of (bytes, bytes)
                h = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
            else:  # RSGI: a mapping-like with .items()
                h = Headers(raw.items())
            self._headers: Headers = h
            return h

    def header(self, name: str, default: str | None = None) -> str | None:
        """One header's value (case-insensitive), or ``default``."""
        return self.headers.get(name, default)

    @property
    def query_params(self) -> QueryParams:
        try:
            return self._query
        except AttributeError:
            self._query: QueryParams = QueryParams(self.query_string)
            return self._query

    @overload
    def query(self, name: str) -> str | None: ...
    @overload
    def query(self, name: str, default: T) -> str | T: ...
    @overload
    def query(self, name: str, default: Any, type_: Callable[[str], T]) -> T: ...
    def query(self, name: str, default: Any = None, type_: Callable[[str], Any] = str) -> Any:
        """A query parameter converted by ``type_``; ``default`` when absent.

        A value that does not convert answers 400 (``bool`` understands ``false``/``0``/``no``).
        """
        raw = self.query_params.get(name)
        if raw is None:
            return default
        try:
            return convert(raw, type_)
        except (TypeError, ValueError):
            name_t = getattr(type_, "__name__", str(type_))
            raise HTTPError(400, f"query parameter {name!r} is not a valid {name_t}") from None

    @property
    def cookies(self) -> dict[str, str]:
        try:
            return self._cookies
        except AttributeError:
            c: dict[str, str] = {}
            raw = self.headers.get("cookie")
            if raw:
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(raw)
                except Exception:
                    jar = SimpleCookie()
                c = {k: unquote(m.value) for k, m in jar.items()}
            self._cookies: dict[str, str] = c
            return c

    @property
    def has_body(self) -> bool:
        """Whether the request declares a body (a ``Content-Length`` or ``Transfer-Encoding``
        header), read from the raw headers without building :attr:`headers`."""
        raw = self._raw_headers
        if isinstance(raw, list):  # ASGI
            return any(key == b"content-length" or key == b"transfer-encoding" for key, _ in raw)
        return "content-length" in raw or "transfer-encoding" in raw  # RSGI headers, or Headers

    @property
    def content_length(self) -> int | None:
        raw = self.headers.get("content-length")
        if raw is None or not raw.isdigit():
            return None
        return int(raw)

    async def body(self) -> bytes:
        """The whole body (read once, then cached)."""
        try:
            return self._body
        except AttributeError:
            pass
        limit = self.app.max_body_size
        declared = self.content_length
        if limit is not None and declared is not None and declared > limit:
            raise BodyTooLarge(limit)
        self._body: bytes = await self._transport.read_body(limit, declared)
        return self._body

    async def json(self, type: Any = None) -> Any:
        """The body decoded as JSON, validated into ``type`` if given.

        Malformed JSON answers 400; well-formed JSON that does not fit ``type`` answers 422.
        """
        raw = await read_body(self)
        try:
            return codec.decode(raw, type) if type is not None else codec.decode(raw)
        except codec.ValidationError as exc:
            raise HTTPError(422, f"JSON body does not match: {exc}") from None
        except codec.DecodeError as exc:
            raise HTTPError(400, f"malformed JSON body: {exc}") from None

    async def form(self) -> QueryParams:
        """An ``application/x-www-form-urlencoded`` body as parameters."""
        raw = await read_body(self)
        return QueryParams(raw.decode("utf-8", "replace"))

    def wait_disconnect(self) -> Any:
        """An awaitable that completes when the client disconnects."""
        return self._transport.wait_disconnect()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


_new = object.__new__

read_body = Request.body
"""``await read_body(request)``: the body, read (once) for any :class:`Request`, also one of a
subclass whose ``body`` is the bytes already read."""


def rsgi_request(
    cls: type[R], app: App, scope: Any, method: str, path: str, headers: Any, transport: Transport
) -> R:
    """A ``cls`` (:class:`Request` or a subclass) for an RSGI ``http`` scope whose ``method``,
    ``path`` and ``headers`` were already read.

    The same fields ``Request(...)`` sets, stored without a keyword-argument call: this runs
    for every request, and the call alone cost about as much as the routing.
    """
    request = _new(cls)
    request.app = app
    request.method = method
    request.path = path
    request.path_params = _NO_PARAMS
    request._client = FROM_SCOPE
    # query_string and scheme are left unset: most handlers never read them, so they are read
    # from the scope on first use
    request._raw_headers = headers
    request._transport = transport
    request._scope = scope
    return request


def fill_asgi(request: Request, app: Any, scope: dict[str, Any], method: str, transport: Any) -> None:
    """Set ``request``'s fields from an ASGI ``http`` scope (``method``: its method)."""
    request.app = app
    request.method = method
    request.path = scope["path"]
    request._query_string = scope.get("query_string", b"").decode("latin-1")
    request.path_params = _NO_PARAMS
    request._scheme = scope.get("scheme", "http")
    client = scope.get("client")
    request._client = tuple(client) if client else None
    request._raw_headers = scope.get("headers", [])
    request._transport = transport
    request._scope = scope


def asgi_request(cls: type[R], app: App, scope: dict[str, Any], method: str, transport: Transport) -> R:
    """A ``cls`` (:class:`Request` or a subclass) for an ASGI ``http`` scope."""
    request = _new(cls)
    fill_asgi(request, app, scope, method, transport)
    return request


def rebase(request: Request, cls: type[R]) -> R:
    """``request`` as a ``cls``: a new object with the same fields (state, read body and
    all), for a handler that takes another kind of request than the one middleware saw."""
    new = _new(cls)
    for name in Request.__slots__:
        try:
            setattr(new, name, getattr(request, name))
        except AttributeError:  # a lazy field not filled yet
            pass
    return new

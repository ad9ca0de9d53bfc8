"""Exceptions raised by the session layer.

``SessionException`` is the base; apps usually meet ``SessionClosedException`` (the browser left
while the app was waiting or sending) and ``SessionNotFoundException`` (an interactive function
called outside a session or from a thread not registered with one).
"""

from __future__ import annotations

__all__ = ["SessionClosedException", "SessionException", "SessionNotFoundException"]


class SessionException(Exception):
    """Base class of the session layer's errors."""


class SessionClosedException(SessionException):
    """The session is closed: no more commands can be sent and no more events will arrive."""


class SessionNotFoundException(SessionException):
    """No session belongs to the calling thread or task."""

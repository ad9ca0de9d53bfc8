"""pgwidgets.async_: the asynchronous API (Application, Session, Widget and the widget classes)."""

from ..protocol import Buffer
from .application import Application
from .session import BrowserDisconnected, BrowserError, Connection, RequestTimeout, Session
from .widget import WIDGET_CLASSES, Widget, WidgetDestroyed, Widgets, build_widget_class

__all__ = [
    "WIDGET_CLASSES",
    "Application",
    "BrowserDisconnected",
    "BrowserError",
    "Buffer",
    "Connection",
    "RequestTimeout",
    "Session",
    "Widget",
    "WidgetDestroyed",
    "Widgets",
    "build_widget_class",
]

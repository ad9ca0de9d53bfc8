"""The widget definitions of pgwidgets-js (re-exported: the single source of truth)."""

from pgwidgets_js.defs import (
    CALLBACK_METHODS,
    CONTAINER_CALLBACKS,
    CONTAINER_METHODS,
    WIDGET_METHODS,
    WIDGETS,
)

__all__ = ["CALLBACK_METHODS", "CONTAINER_CALLBACKS", "CONTAINER_METHODS", "WIDGETS", "WIDGET_METHODS"]

"""TextSource: a Python-side model of its buffer, so that a rebuilt browser gets it back.

pgwidgets-js's TextSource keeps text, tag definitions and intervals, live refs (positions with
gravity), named refs and the cursor/selection in the browser; a generic replay (constructor and
setters) would bring back none of it but the last ``set_text``. The widget class gets
:class:`TextSourceMixin`, which keeps a :class:`TextModel`:

* calls made from Python update the model with the same offset rules as the JS
  (``_replaceRange``, ``_updateRefsOnInsert/Delete``, ``_updateTagsOnInsert/Delete``), before
  they are sent. Keeping a model was chosen over asking the browser for a snapshot because the
  page has no call that returns its tag intervals or cursor without minting refs, a snapshot
  would lag behind the calls made since, and the model also works when no browser is connected;
* an edit made in the browser (or ``undo``/``redo``, whose history lives there) only fires
  ``changed``, without arguments: the mixin then asks the browser for its text and folds the
  difference into the model as one replacement (common prefix and suffix), with the same rules.
  The text is then exact one round trip after the event; for one edit at a time (a keystroke, a
  paste) tags, refs and cursor follow exactly as in the JS too; several edits folded into one
  fetch, or an edit inside a run of equal characters, can leave them a few characters off;
* a replay (see :func:`pgwidgets.async_.session.build_replay`, which calls
  :meth:`TextSourceMixin._replay_model`) sends, after the ``create``: ``set_text``, one
  ``create_tag`` per definition, ``_restoreTagIntervals``, a ``create`` of every tracked ref
  under its own id (the Python proxies stay valid), ``_bindNamedRef`` per name, then
  ``_setSelectionOffsets`` or ``_setCursorOffset``.

Offsets count UTF-16 code units, as JS strings do: the model text is kept as one Python
character per code unit (:func:`to_units`).
"""

from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Callable
from typing import Any

from ..protocol import call as call_msg
from ..protocol import create as create_msg

__all__ = ["TextModel", "TextSourceMixin", "from_units", "to_units"]

logger = logging.getLogger("pgwidgets")


def to_units(text: str) -> str:
    """``text`` with one character per UTF-16 code unit (astral characters become surrogates)."""
    if text.isascii() or max(text) <= "\uffff":
        return text
    units = array("H")
    units.frombytes(text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return "".join(map(chr, units))


def from_units(units: str) -> str:
    """The inverse of :func:`to_units`."""
    if units.isascii() or not any("\ud800" <= c <= "\udfff" for c in units):
        return units
    arr = array("H", map(ord, units))
    if sys.byteorder == "big":
        arr.byteswap()
    return arr.tobytes().decode("utf-16-le", "surrogatepass")


class TextModel:
    """The browser's TextSource state, updated with the same rules as the JS.

    ``refs`` maps each tracked ref (any hashable, the Widget proxies here) to ``[offset,
    gravity]``; ``tags`` is the interval list in application order (``[name, start, end]``).
    """

    def __init__(self, text: str = "") -> None:
        self.units = to_units(text)
        self.tag_defs: dict[str, dict[str, Any]] = {}
        self.tags: list[list[Any]] = []
        self.refs: dict[Any, list[Any]] = {}
        self.named: dict[str, Any] = {}
        self.cursor = 0
        self.sel_start = 0
        self.sel_end = 0

    @property
    def text(self) -> str:
        return from_units(self.units)

    def clamp(self, offset: Any) -> int:
        try:
            o = int(offset)
        except (TypeError, ValueError):
            o = 0
        return max(0, min(o, len(self.units)))

    # text ---------------------------------------------------------------------------------

    def set_text(self, text: str) -> None:
        """Destructive replace: tags, refs and named refs go, the cursor goes to 0."""
        self.units = to_units(text)
        self.cursor = self.sel_start = self.sel_end = 0
        self.tags = []
        self.refs.clear()
        self.named.clear()

    def replace_range(self, start: int, end: int, new: str, tags: list[str] | None = None) -> None:
        """The JS ``_replaceRange`` (``new`` in code units)."""
        if start == end and not new:
            return
        self.units = self.units[:start] + new + self.units[end:]
        if end > start:
            n = end - start
            for ref in self.refs.values():
                if ref[0] <= start:
                    continue
                ref[0] = ref[0] - n if ref[0] >= end else start
            kept = []
            for name, s, e in self.tags:
                if e <= start:
                    kept.append([name, s, e])
                elif s >= end:
                    kept.append([name, s - n, e - n])
                else:
                    ns = s if s < start else start
                    ne = e - n if e > end else start
                    if ne > ns:
                        kept.append([name, ns, ne])
            self.tags = kept
        if new:
            n = len(new)
            for ref in self.refs.values():
                if ref[0] > start or (ref[0] == start and ref[1] == "right"):
                    ref[0] += n
            for t in self.tags:
                if t[1] >= start:
                    t[1] += n
                if t[2] > start or (t[2] == start and t[1] == t[2]):
                    t[2] += n
                if t[2] < t[1]:
                    t[2] = t[1]
        self.cursor = self.sel_start = self.sel_end = start + len(new)
        for name in tags or ():
            self.tags.append([name, start, start + len(new)])

    def reconcile(self, text: str) -> None:
        """Fold the browser's ``text`` in as one replacement of what differs."""
        new = to_units(text)
        old = self.units
        if new == old:
            return
        n = min(len(old), len(new))
        p = 0
        while p < n and old[p] == new[p]:
            p += 1
        s = 0
        while s < n - p and old[-1 - s] == new[-1 - s]:
            s += 1
        self.replace_range(p, len(old) - s, new[p : len(new) - s])

    def find_all(self, query: str, opts: dict[str, Any], start: int, first: bool) -> list[tuple[int, int]]:
        """The JS ``_findOffset``/``_findAllOffsets`` (``query`` in code units)."""
        hay, needle = self.units, query
        if opts.get("case_insensitive"):
            hay, needle = hay.lower(), needle.lower()
        out: list[tuple[int, int]] = []
        frm = start
        while needle:
            i = hay.find(needle, frm)
            if i == -1:
                break
            out.append((i, i + len(query)))
            if first:
                break
            frm = i + len(query)
        return out

    # tags ---------------------------------------------------------------------------------

    def apply_tag(self, name: str, start: int, end: int) -> None:
        if name not in self.tag_defs:
            return  # the JS throws "Unknown tag"
        start, end = min(start, end), max(start, end)
        if start != end:
            self.tags.append([name, start, end])

    def remove_tag(self, name: str, start: int, end: int) -> None:
        start, end = min(start, end), max(start, end)
        kept = []
        for t in self.tags:
            if t[0] != name or t[2] <= start or t[1] >= end:
                kept.append(t)
                continue
            if t[1] < start:
                kept.append([name, t[1], start])
            if t[2] > end:
                kept.append([name, end, t[2]])
        self.tags = kept

    def intervals(self) -> list[dict[str, Any]]:
        return [{"name": n, "start": s, "end": e} for n, s, e in self.tags]

    # refs ---------------------------------------------------------------------------------

    def track(self, ref: Any, offset: Any, gravity: Any = "right") -> None:
        self.refs[ref] = [self.clamp(offset), "left" if gravity == "left" else "right"]

    def untrack(self, ref: Any) -> None:
        self.refs.pop(ref, None)
        for name in [n for n, r in self.named.items() if r is ref]:
            del self.named[name]

    def offset(self, ref: Any) -> int | None:
        entry = self.refs.get(ref)
        return None if entry is None else self.clamp(entry[0])


# the widget side ----------------------------------------------------------------------------

# state keys the model replays (the generic setter replay skips them)
MODEL_KEYS = frozenset({"text", "cursor", "selection_range"})


class TextSourceMixin:
    """Python-side methods of ``TextSource`` that keep its :class:`TextModel` (see the module)."""

    def _model(self: Any) -> TextModel:
        model: TextModel | None = self.__dict__.get("_text_model")
        if model is None:
            model = self.__dict__["_text_model"] = TextModel(self._state.get("text") or "")
        return model

    async def _initialize(self: Any) -> Any:
        self._model()
        await super()._initialize()  # type: ignore[misc]
        self._listen("changed")  # browser edits: fetch the text
        return self

    async def _call_js(self: Any, method: str, *args: Any) -> Any:
        """``method(*args)`` through the generic path (state, batching, the browser's answer)."""
        spec = self._specs[method]
        return await self._invoke(spec, list(args))

    async def _ref_offset(self: Any, ref: Any) -> int | None:
        """The offset of ``ref``: from the model when it is tracked; else asked from the
        browser (the ref is tracked from then on, with the right gravity every ref minted by
        the page has)."""
        model: TextModel = self._model()
        off = model.offset(ref)
        if off is not None or getattr(ref, "_js_class", None) != "TextBufferRef" or ref._wid is None:
            return off
        wid = ref._wid
        try:
            value = await self._session._request(lambda mid: call_msg(mid, wid, "get_offset", []))
        except Exception:  # no browser, or the ref is gone there: offset unknown
            return None
        if not isinstance(value, int):
            return None
        self._track(ref, value, "right")
        return model.clamp(value)

    def _track(self: Any, ref: Any, offset: Any, gravity: Any) -> None:
        if getattr(ref, "_js_class", None) != "TextBufferRef" or ref._wid is None:
            return
        self._model().track(ref, offset, gravity)
        self._session._bump_wid(ref._wid + 1)  # the page minted this id: Python must not reuse it

    # text -----------------------------------------------------------------------------------

    def get_text(self: Any) -> str:
        """The text (answered locally; after an edit in the browser, one round trip late)."""
        model: TextModel = self._model()
        return model.text

    async def set_text(self: Any, text: str) -> None:
        self._model().set_text("" if text is None else str(text))
        self._drop_ref_state()
        await self._call_js("set_text", text)

    async def clear(self: Any) -> None:
        self._model().set_text("")
        self._drop_ref_state()
        await self._call_js("clear")

    def _drop_ref_state(self: Any) -> None:
        for key in ("icon", "cursor", "selection_range"):  # their refs were invalidated
            self._state.pop(key, None)
            self._dirty.pop(key, None)
            self._replay_set.pop(key, None)

    async def insert_text(self: Any, ref: Any, text: str, tags: Any = None) -> None:
        off = await self._ref_offset(ref)
        if off is not None and text:
            self._model().replace_range(off, off, to_units(str(text)), list(tags) if tags else None)
        await self._call_js("insert_text", ref, text, tags)

    async def delete_range(self: Any, start_ref: Any, end_ref: Any) -> None:
        s, e = await self._ref_offset(start_ref), await self._ref_offset(end_ref)
        if s is not None and e is not None:
            self._model().replace_range(min(s, e), max(s, e), "")
        await self._call_js("delete_range", start_ref, end_ref)

    async def replace(self: Any, query: str, replacement: str, opts: Any = None) -> Any:
        model: TextModel = self._model()
        o = dict(opts or {})
        start: int | None = 0
        if o.get("start") is not None:
            start = await self._ref_offset(o["start"])
        if query and start is not None:
            matches = model.find_all(to_units(query), o, start, first=not o.get("all"))
            for s, e in reversed(matches):
                model.replace_range(s, e, to_units(replacement or ""))
        return await self._call_js("replace", query, replacement, opts)

    # tags ---------------------------------------------------------------------------------

    async def create_tag(self: Any, name: str, attrs: Any = None) -> None:
        self._model().tag_defs[name] = dict(attrs or {})
        await self._call_js("create_tag", name, attrs if attrs is not None else {})

    async def remove_tag_def(self: Any, name: str) -> None:
        model: TextModel = self._model()
        model.tag_defs.pop(name, None)
        model.tags = [t for t in model.tags if t[0] != name]
        await self._call_js("remove_tag_def", name)

    async def apply_tag(self: Any, name: str, start_ref: Any, end_ref: Any) -> None:
        s, e = await self._ref_offset(start_ref), await self._ref_offset(end_ref)
        await self._call_js("apply_tag", name, start_ref, end_ref)  # raises for an unknown tag
        if s is not None and e is not None:
            self._model().apply_tag(name, s, e)

    async def remove_tag(self: Any, name: str, start_ref: Any, end_ref: Any) -> None:
        s, e = await self._ref_offset(start_ref), await self._ref_offset(end_ref)
        if s is not None and e is not None:
            self._model().remove_tag(name, s, e)
        await self._call_js("remove_tag", name, start_ref, end_ref)

    # refs, cursor, selection ----------------------------------------------------------------

    async def create_ref(self: Any, offset: int, gravity: str = "right") -> Any:
        ref = await self._call_js("create_ref", offset, gravity)
        self._track(ref, offset, gravity)
        return ref

    async def create_named_ref(self: Any, name: str, offset: int, gravity: str = "right") -> Any:
        model: TextModel = self._model()
        old = model.named.pop(name, None)
        if old is not None:
            model.untrack(old)
        ref = await self._call_js("create_named_ref", name, offset, gravity)
        self._track(ref, offset, gravity)
        if ref in model.refs:
            model.named[name] = ref
        return ref

    async def remove_ref(self: Any, ref: Any) -> None:
        self._model().untrack(ref)
        await self._call_js("remove_ref", ref)

    async def remove_named_ref(self: Any, name: str) -> None:
        model: TextModel = self._model()
        ref = model.named.pop(name, None)
        if ref is not None:
            model.untrack(ref)
        await self._call_js("remove_named_ref", name)

    async def set_cursor(self: Any, ref: Any) -> None:
        off = await self._ref_offset(ref)
        if off is not None:
            model: TextModel = self._model()
            model.cursor = model.sel_start = model.sel_end = off
        await self._call_js("set_cursor", ref)

    async def set_selection_range(self: Any, start_ref: Any, end_ref: Any) -> None:
        s, e = await self._ref_offset(start_ref), await self._ref_offset(end_ref)
        if s is not None and e is not None:
            model: TextModel = self._model()
            model.sel_start, model.sel_end, model.cursor = s, e, e
        await self._call_js("set_selection_range", start_ref, end_ref)

    async def set_icon(self: Any, ref: Any, icon_url: Any) -> None:
        await self._ref_offset(ref)  # tracked, so the replay recreates it before set_icon
        await self._call_js("set_icon", ref, icon_url)

    def get_cursor_offset(self: Any) -> int:
        """The cursor's offset (answered locally)."""
        model: TextModel = self._model()
        return model.cursor

    def get_selection_offsets(self: Any) -> tuple[int, int]:
        """``(start, end)`` of the selection as set (``start == end``: none); answered locally."""
        model: TextModel = self._model()
        return (model.sel_start, model.sel_end)

    def get_tag_intervals(self: Any) -> list[dict[str, Any]]:
        """The applied tag intervals ``{name, start, end}`` (answered locally)."""
        model: TextModel = self._model()
        return model.intervals()

    def get_named_ref_offsets(self: Any) -> dict[str, int]:
        """``{name: offset}`` of the named refs (answered locally)."""
        model: TextModel = self._model()
        return {name: model.refs[ref][0] for name, ref in model.named.items() if ref in model.refs}

    # browser edits ------------------------------------------------------------------------

    def _auto_sync(self: Any, action: str, args: list[Any]) -> tuple[str, list[Any]] | None:
        if action == "changed":
            self.__dict__["_resync_wanted"] = True
            if not self.__dict__.get("_resyncing"):
                self.__dict__["_resyncing"] = True
                self._session._app._spawn(self._resync())
            return None
        return super()._auto_sync(action, args)  # type: ignore[misc, no-any-return]

    async def _resync(self: Any) -> None:
        """Fetch the browser's text until no ``changed`` came in meanwhile; fold it in."""
        wid = self._wid
        try:
            while self.__dict__.get("_resync_wanted") and self._alive:
                self.__dict__["_resync_wanted"] = False
                try:
                    text = await self._session._request(lambda mid: call_msg(mid, wid, "get_text", []))
                except Exception as exc:  # the browser left: the next one gets a rebuild
                    logger.debug("%r: could not fetch the text: %s", self, exc)
                    return
                if isinstance(text, str):
                    self._model().reconcile(text)
        finally:
            self.__dict__["_resyncing"] = False

    # replay -------------------------------------------------------------------------------

    def _replay_model(self: Any, new_mid: Callable[[], int]) -> tuple[list[dict[str, Any]], frozenset[str]]:
        """The messages that restore the model after the ``create``, and the state keys the
        generic replay must skip."""
        model: TextModel = self._model()
        wid = self._wid
        out: list[dict[str, Any]] = []
        ctor_text = self._ctor_args[0] if self._ctor_args and isinstance(self._ctor_args[0], str) else ""
        text = model.text
        if text != ctor_text:
            out.append(call_msg(new_mid(), wid, "set_text", [text]))
        for name, attrs in model.tag_defs.items():
            out.append(call_msg(new_mid(), wid, "create_tag", [name, attrs]))
        if model.tags:
            out.append(call_msg(new_mid(), wid, "_restoreTagIntervals", [model.intervals()]))
        for ref, (offset, gravity) in list(model.refs.items()):
            if not ref._alive or self._session._widgets.get(ref._wid) is not ref:
                model.untrack(ref)
                continue
            ref._ctor_args = [self, offset, gravity]  # a later generic create is the same
            out.append(create_msg(new_mid(), ref._wid, "TextBufferRef", [self, offset, gravity]))
        for name, ref in model.named.items():
            out.append(call_msg(new_mid(), wid, "_bindNamedRef", [name, ref]))
        if model.sel_start != model.sel_end:
            out.append(call_msg(new_mid(), wid, "_setSelectionOffsets", [model.sel_start, model.sel_end]))
        elif model.cursor:
            out.append(call_msg(new_mid(), wid, "_setCursorOffset", [model.cursor]))
        return out, MODEL_KEYS

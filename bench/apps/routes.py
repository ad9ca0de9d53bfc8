"""The route set every HTTP contender serves, so each router does the same work.

``OTHER_ROUTES`` param routes are registered *before* the two measured routes and share their
``/api/`` prefix and, for ``/api/users/{id}``, their shape: a router that tries its routes in
order pays for all of them; one that indexes them does not.
"""

OTHER_ROUTES = 50
"""How many extra ``/api/r{i}/{id}`` routes come before the measured ones."""

HEALTH_PATH = "/api/health"
USER_PATH = "/api/users/{id}"


def other_path(i: int) -> str:
    return f"/api/r{i}/{{id}}"


def health_body() -> dict[str, str]:
    return {"status": "ok"}


def user_body(user_id: int) -> dict[str, object]:
    return {"id": user_id, "name": "user"}


def other_body(i: int, item_id: int) -> dict[str, object]:
    return {"route": i, "id": item_id}

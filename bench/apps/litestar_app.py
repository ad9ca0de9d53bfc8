"""Litestar: the same routes as ``@get`` handlers (typed ``{id:int}`` path parameters, its idiom)."""

from typing import Any

from litestar import Litestar, get
from routes import OTHER_ROUTES, health_body, other_body, user_body


def _other(i: int) -> Any:
    async def handler(id: int) -> dict[str, object]:
        return other_body(i, id)

    handler.__name__ = f"other_{i}"
    return get(f"/api/r{i}/{{id:int}}")(handler)


@get("/api/health")
async def health() -> dict[str, str]:
    return health_body()


@get("/api/users/{id:int}")
async def user(id: int) -> dict[str, object]:
    return user_body(id)


app = Litestar(
    route_handlers=[*(_other(i) for i in range(OTHER_ROUTES)), health, user],
    openapi_config=None,
)

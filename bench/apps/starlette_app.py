"""Starlette: the same routes as a plain ``Starlette(routes=[...])`` app with ``JSONResponse``."""

from typing import Any

from routes import HEALTH_PATH, OTHER_ROUTES, USER_PATH, health_body, other_body, other_path, user_body
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def _other(i: int) -> Any:
    async def handler(request: Request) -> JSONResponse:
        return JSONResponse(other_body(i, int(request.path_params["id"])))

    return handler


async def health(request: Request) -> JSONResponse:
    return JSONResponse(health_body())


async def user(request: Request) -> JSONResponse:
    return JSONResponse(user_body(int(request.path_params["id"])))


routes = [Route(other_path(i), _other(i)) for i in range(OTHER_ROUTES)]
routes += [Route(HEALTH_PATH, health), Route(USER_PATH, user)]
app = Starlette(routes=routes)

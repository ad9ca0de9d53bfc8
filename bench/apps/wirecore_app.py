"""wirecore: the same routes on :class:`wirecore.App` (served over RSGI and over ASGI)."""

from typing import Any

from routes import HEALTH_PATH, OTHER_ROUTES, USER_PATH, health_body, other_body, other_path, user_body

from wirecore import App, Request

app = App()


def _other(i: int) -> Any:
    async def handler(request: Request) -> dict[str, object]:
        return other_body(i, int(request.path_params["id"]))

    return handler


for _i in range(OTHER_ROUTES):
    app.get(other_path(_i))(_other(_i))


@app.get(HEALTH_PATH)
async def health(request: Request) -> dict[str, str]:
    return health_body()


@app.get(USER_PATH)
async def user(request: Request) -> dict[str, object]:
    return user_body(int(request.path_params["id"]))

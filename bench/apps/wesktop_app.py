"""wesktop: the same routes through wesktop's documented API (``Router``, ``create_app``).

The 50 extra ``/api/r{i}/{id}`` routes are registered first, as for every contender. This module
uses only what wesktop 0.2.1 documented, so :mod:`wesktop_orig_app` serves the very same code
with the original package.
"""

from typing import Any

from routes import HEALTH_PATH, OTHER_ROUTES, USER_PATH, health_body, other_body, other_path, user_body

import wesktop

router = wesktop.Router()


def _other(i: int) -> Any:
    async def handler(req: wesktop.Request) -> dict[str, object]:
        return other_body(i, int(req.path_params["id"]))

    return handler


for _i in range(OTHER_ROUTES):
    router.get(other_path(_i))(_other(_i))


@router.get(HEALTH_PATH)
async def health(req: wesktop.Request) -> dict[str, str]:
    return health_body()


@router.get(USER_PATH)
async def user(req: wesktop.Request) -> dict[str, object]:
    return user_body(int(req.path_params["id"]))


app = wesktop.create_app(router)

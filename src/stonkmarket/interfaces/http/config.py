"""The finder's settings: read them with their version, change them with If-Match."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.params import HeaderParameter, JSONBody

from stonkmarket.application.commands import ChangeSettings
from stonkmarket.application.handlers import change_settings
from stonkmarket.application.views import SettingsView
from stonkmarket.domain.errors import ThresholdOutOfRangeError
from stonkmarket.domain.settings import KNOBS, Knob
from stonkmarket.interfaces.http.access_gate import admin_only, readers
from stonkmarket.interfaces.http.context import AppContainer, actor_of, request_id_of

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='the version the change is based on, as its ETag ("3")',
    ),
]


class ConfigView(msgspec.Struct, frozen=True, kw_only=True):
    """The current settings, their version, and what each knob accepts."""

    version: int
    values: dict[str, Any]
    knobs: dict[str, Knob]


def _respond(settings: SettingsView) -> Response[ConfigView]:
    body = ConfigView(version=settings.version, values=settings.values, knobs=KNOBS)
    return Response(body, headers={"ETag": f'"{settings.version}"'})


def parse_if_match(value: str | None) -> int | None:
    """Read a version from an If-Match header: `"3"`, `W/"3"` or `3`."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ThresholdOutOfRangeError(
            f'If-Match must be a settings version such as "3", got {value!r}',
            field="If-Match",
        )
    return int(text)


class ConfigController(Controller):
    path = "/api/dipfinder/config"
    tags = ("dipfinder",)

    @get("/", guards=[readers])
    async def read_config(self, container: AppContainer) -> Response[ConfigView]:
        """Return every knob with its value, range and the settings version."""
        return _respond(await container.queries.settings())

    @put("/", guards=[admin_only])
    async def change_config(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        data: JSONBody[dict[str, Any]],
        if_match: IfMatch = None,
    ) -> Response[ConfigView]:
        """Change the knobs named in the body; the others keep their values."""
        await container.execute(
            change_settings,
            ChangeSettings(
                changes=data,
                expected_version=parse_if_match(if_match),
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return _respond(await container.queries.settings())

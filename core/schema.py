"""OpenAPI generation (drf-spectacular) settings that every API view shares.

Kept apart from `core.api`: drf-spectacular imports DRF's generic views, which read the
pagination class from `core.api` while it is being imported.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Component names for the nested `InputSerializer`/`OutputSerializer` of thin API views:
    `RegencyListApi.OutputSerializer` -> `RegencyListOutput` (otherwise every view's would be
    called `Output` and the components would collide)."""

    def get_serializer_name(self, serializer, direction) -> str:
        outer, _dot, inner = serializer.__class__.__qualname__.rpartition(".")
        if not outer or "<locals>" in outer:
            return super().get_serializer_name(serializer, direction)
        outer = outer.split(".")[-1].removesuffix("Api").removesuffix("View")
        return outer + inner

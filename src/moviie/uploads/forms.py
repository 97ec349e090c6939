"""Video fields sent as multipart form fields, validated like their JSON twins."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from moviie.http.body import body_validation_error
from moviie.videos.schemas import VideoCreateFields

_LISTS = ("tags", "collection_ids")


def video_fields_from_form(fields: dict[str, list[str]]) -> VideoCreateFields:
    """Lists may repeat a field or separate values by commas; `metadata` is a JSON object."""
    data: dict[str, Any] = {}
    for name, values in fields.items():
        if name in _LISTS:
            data[name] = [v.strip() for value in values for v in value.split(",") if v.strip()]
        elif name == "metadata":
            try:
                data[name] = json.loads(values[-1])
            except ValueError:
                data[name] = values[-1]  # reported by validation as "not a dict"
        else:
            data[name] = values[-1]
    try:
        return VideoCreateFields.model_validate(data)
    except ValidationError as exc:
        raise body_validation_error(exc) from exc

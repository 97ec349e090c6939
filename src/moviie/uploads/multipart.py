"""A streaming multipart/form-data reader: the file part goes to disk as it arrives, never
whole into memory; text fields are small and capped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from moviie.errors import BadRequest, PayloadTooLarge
from moviie.uploads.staging import StagedFile

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 200


class InvalidMultipart(BadRequest):
    code = "invalid_multipart"
    title = "The multipart body is malformed or incomplete"


@dataclass
class MultipartForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    filename: str | None = None
    content_type: str | None = None
    has_file: bool = False


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    is_file: bool = False
    text: bytearray = field(default_factory=bytearray)


async def read_multipart(
    chunks: AsyncIterator[bytes],
    content_type: str,
    sink: StagedFile,
    *,
    file_field: str = "file",
    max_file_bytes: int,
) -> MultipartForm:
    """Parse the body; the `file_field` part's bytes are written to `sink`."""
    media_type, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidMultipart("Send `multipart/form-data` with a boundary.")
    form = MultipartForm()
    state: dict[str, object] = {"ended": False}
    current = _Part()
    header_field = bytearray()
    header_value = bytearray()
    file_data: list[bytes] = []
    errors: list[Exception] = []

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current.headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _disposition, options = parse_options_header(current.headers.get(b"content-disposition"))
        current.name = options.get(b"name", b"").decode("utf-8", "replace")
        if current.name == file_field and b"filename" in options:
            if form.has_file:
                errors.append(InvalidMultipart(f"Send one `{file_field}` part."))
                return
            current.is_file = True
            form.has_file = True
            form.filename = options[b"filename"].decode("utf-8", "replace")
            part_type = current.headers.get(b"content-type")
            form.content_type = part_type.decode("latin-1") if part_type else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if current.is_file:
            file_data.append(data[start:end])
        elif len(current.text) + (end - start) > MAX_FIELD_BYTES:
            errors.append(InvalidMultipart(f"Field {current.name!r} is over 64 KiB."))
        else:
            current.text.extend(data[start:end])

    def on_part_end() -> None:
        if not current.is_file and current.name:
            if sum(len(v) for v in form.fields.values()) >= MAX_FIELDS:
                errors.append(InvalidMultipart("Too many fields."))
                return
            form.fields.setdefault(current.name, []).append(current.text.decode("utf-8", "replace"))

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    async for chunk in chunks:
        try:
            parser.write(chunk)
        except Exception as exc:  # the parser's own errors: a body that is not multipart
            raise InvalidMultipart("The multipart body could not be parsed.") from exc
        if errors:
            raise errors[0]
        for piece in file_data:
            await sink.write(piece)
        file_data.clear()
        if sink.size > max_file_bytes:
            raise PayloadTooLarge(
                f"Files may be at most {max_file_bytes} bytes.", max_bytes=max_file_bytes
            )
    if not state["ended"]:
        raise InvalidMultipart("The body ended before the closing boundary: the upload is cut.")
    return form

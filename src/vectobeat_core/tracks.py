"""Tracks: the frozen `Track` value and a codec for Lavalink's encoded-track format.

The encoded format is lavaplayer's ``MessageOutput`` message, base64-encoded::

    int32   header: flags << 30 | size        (flag 1 = versioned; size counts the bytes that follow)
    uint8   version                           (only when versioned; unversioned means version 1)
    utf     title, author
    int64   length (ms)
    utf     identifier
    bool    is_stream
    v2+:    nullable utf uri                  (bool present + utf)
    v3:     nullable utf artwork_url, nullable utf isrc
    utf     source name
    ...     source-specific bytes (opaque; kept only inside ``Track.encoded``)
    int64   position (ms)                     (the last 8 bytes of the message)

``utf`` is Java's ``DataOutput.writeUTF``: a big-endian uint16 byte count, then modified UTF-8
(NUL as ``C0 80``, characters beyond the BMP as two 3-byte surrogates).
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from typing import Any

import attrs

from vectobeat_core import lavalink_fields as fields
from vectobeat_core.errors import InvalidTrack
from vectobeat_core.ids import UserId
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method

__all__ = ["MAX_LONG", "Track", "decode_track", "encode_track"]

MAX_LONG = fields.MAX_LONG
"""Lavalink reports a stream's length as Java's ``Long.MAX_VALUE``."""

_FLAG_VERSIONED = 1
_MAX_UTF_BYTES = 0xFFFF
_MAX_MESSAGE = (1 << 30) - 1
_MAX_EXTRA = 1 << 20  # keeps any message far below the 30-bit size limit
_LONG = struct.Struct(">q")
_USHORT = struct.Struct(">H")
_INT = struct.Struct(">I")


def _check_text(field: str, value: object, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str):
        kind = "a string or null" if nullable else "a string"
        raise InvalidTrack(f"Track field {field!r} must be {kind}, got {type(value).__name__}.")


def _check_ms(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTrack(f"Track field {field!r} must be an integer, got {type(value).__name__}.")
    if not 0 <= value <= MAX_LONG:
        raise InvalidTrack(f"Track field {field!r} must be between 0 and {MAX_LONG}, got {value}.")


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidTrack(f"Track field {field!r} must be true or false, got {value!r}.")


def _check_requester(value: object) -> UserId | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LONG:
        raise InvalidTrack(f"Track field 'requester' must be a Discord user id, got {value!r}.")
    return UserId(value)


@json_form(what="Stored track", error=InvalidTrack)
@attrs.frozen(slots=True, weakref_slot=False)
class Track:
    """One playable track as Lavalink describes it; ``requester`` is who queued it.

    Its JSON (`to_json`, queue snapshots) is compact: short keys, and what is false, null or 0
    left out."""

    encoded: str = attrs.field(metadata=json_key("e"))
    title: str = attrs.field(metadata=json_key("t"))
    author: str = attrs.field(metadata=json_key("a"))
    length: int = attrs.field(metadata=json_key("l"))
    identifier: str = attrs.field(metadata=json_key("i"))
    is_stream: bool = attrs.field(metadata=json_key("st", omit=True, default=False))
    is_seekable: bool = attrs.field(metadata=json_key("sk", omit=True, default=False))
    uri: str | None = attrs.field(metadata=json_key("u", omit=True, default=None))
    artwork_url: str | None = attrs.field(metadata=json_key("w", omit=True, default=None))
    isrc: str | None = attrs.field(metadata=json_key("r", omit=True, default=None))
    source: str = attrs.field(metadata=json_key("s"))
    position: int = attrs.field(default=0, metadata=json_key("p", omit=True))
    requester: UserId | None = attrs.field(default=None, metadata=json_key("q", omit=True))

    def __attrs_post_init__(self) -> None:
        for name in ("encoded", "title", "author", "identifier", "source"):
            _check_text(name, getattr(self, name))
        for name in ("uri", "artwork_url", "isrc"):
            _check_text(name, getattr(self, name), nullable=True)
        _check_ms("length", self.length)
        _check_ms("position", self.position)
        _check_bool("is_stream", self.is_stream)
        _check_bool("is_seekable", self.is_seekable)
        _check_requester(self.requester)

    @property
    def key(self) -> str:
        """What makes two tracks "the same song" for deduplication: the URI, else the identifier."""
        return self.uri if self.uri is not None else f"{self.source}:{self.identifier}"

    # -- Lavalink v4 REST/WebSocket JSON -------------------------------------------------------

    @classmethod
    def from_lavalink(cls, data: object, *, requester: UserId | None = None) -> Track:
        """Read a Lavalink v4 track object (``{"encoded", "info": {...}, ...}``), liberally.

        Only ``encoded`` (what the node plays) and an ``info`` object are required; every other
        field is normalised on its own (`_LavalinkInfo`) so one odd value never drops the track:
        a length of ``-1`` or garbage is unknown (0, or ``MAX_LONG`` for a stream), flags given as
        ``0``/``1`` or ``"true"`` are read as booleans, a missing title reads "Unknown title".
        ``requester`` defaults to ``userData.requester`` when the payload carries a valid one.
        """
        if not isinstance(data, Mapping):
            raise InvalidTrack(f"A Lavalink track must be an object, got {type(data).__name__}.")
        encoded = data.get("encoded")
        if not isinstance(encoded, str) or not encoded:
            raise InvalidTrack("Lavalink track field 'encoded' is missing or not a string.")
        info = data.get("info")
        if not isinstance(info, Mapping):
            raise InvalidTrack("Lavalink track field 'info' is missing or not an object.")
        if requester is None:
            user_data = data.get("userData")
            if isinstance(user_data, Mapping):
                try:
                    requester = _parse_requester(user_data.get("requester"))
                except InvalidTrack:
                    requester = None  # foreign userData: not ours to trust, not worth a drop
        read = _LavalinkInfo(info)
        is_stream = read.flag("isStream", default=False)
        return cls(
            encoded=encoded,
            title=read.text("title", "Unknown title"),
            author=read.text("author", "Unknown artist"),
            length=read.millis("length", unknown=MAX_LONG if is_stream else 0),
            identifier=read.text("identifier", "unknown"),
            is_stream=is_stream,
            is_seekable=read.flag("isSeekable", default=not is_stream),
            uri=read.optional_text("uri"),
            artwork_url=read.optional_text("artworkUrl"),
            isrc=read.optional_text("isrc"),
            source=read.text("sourceName", "unknown"),
            position=read.millis("position", unknown=0),
            requester=requester,
        )

    def to_lavalink(self) -> dict[str, Any]:
        """The Lavalink v4 track object; the requester travels in ``userData``."""
        user_data: dict[str, Any] = {}
        if self.requester is not None:
            user_data["requester"] = str(self.requester)
        return {
            "encoded": self.encoded,
            "info": {
                "identifier": self.identifier,
                "isSeekable": self.is_seekable,
                "author": self.author,
                "length": self.length,
                "isStream": self.is_stream,
                "position": self.position,
                "title": self.title,
                "uri": self.uri,
                "artworkUrl": self.artwork_url,
                "isrc": self.isrc,
                "sourceName": self.source,
            },
            "pluginInfo": {},
            "userData": user_data,
        }

    # -- compact snapshot form -----------------------------------------------------------------

    to_json = dump_method()
    from_json = load_method()


class _LavalinkInfo:
    """A Lavalink ``info`` object's fields, each read by its kind's rule (`lavalink_fields`)."""

    __slots__ = ("_info",)

    def __init__(self, info: Mapping[str, Any]) -> None:
        self._info = info

    def text(self, key: str, default: str) -> str:
        return fields.text(self._info.get(key), default)

    def optional_text(self, key: str) -> str | None:
        return fields.optional_text(self._info.get(key))

    def flag(self, key: str, *, default: bool) -> bool:
        return fields.flag(self._info.get(key), default)

    def millis(self, key: str, *, unknown: int) -> int:
        """A length or position in ms; negative, missing or garbage is ``unknown``."""
        return fields.amount(self._info.get(key), unknown)


def _parse_requester(value: object) -> UserId | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    return _check_requester(value)


# -- binary codec ------------------------------------------------------------------------------


class _Reader:
    """Reads Java ``DataInput`` values from a byte string, failing with `InvalidTrack`."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > self.end:
            raise InvalidTrack(f"Encoded track is truncated while reading {what}.")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def boolean(self, what: str) -> bool:
        return self.byte(what) != 0

    def long(self, what: str) -> int:
        value: int = _LONG.unpack(self.take(8, what))[0]
        if value < 0:
            raise InvalidTrack(f"Encoded track has a negative {what} ({value}).")
        return value

    def utf(self, what: str) -> str:
        (size,) = _USHORT.unpack(self.take(2, what))
        return _decode_modified_utf8(self.take(size, what), what)

    def nullable_utf(self, what: str) -> str | None:
        return self.utf(what) if self.boolean(what) else None


def _decode_modified_utf8(raw: bytes, what: str) -> str:
    if any(b >= 0xF0 for b in raw):
        raise InvalidTrack(f"Encoded track has invalid text in {what}.")
    try:
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
        # Characters beyond the BMP arrive as surrogate pairs; join them (lone ones are errors).
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeError:
        raise InvalidTrack(f"Encoded track has invalid text in {what}.") from None


def _encode_modified_utf8(text: str, what: str) -> bytes:
    units = text if text.isascii() else _split_pairs(text.encode("utf-16-le", "surrogatepass"))
    raw = units.encode("utf-8", "surrogatepass").replace(b"\x00", b"\xc0\x80")
    if len(raw) > _MAX_UTF_BYTES:
        raise InvalidTrack(
            f"Track {what} is too long to encode ({len(raw)} bytes, at most {_MAX_UTF_BYTES})."
        )
    return _USHORT.pack(len(raw)) + raw


def _split_pairs(utf16: bytes) -> str:
    units = struct.unpack(f"<{len(utf16) // 2}H", utf16)
    return "".join(map(chr, units))


def decode_track(encoded: str) -> Track:
    """Decode a Lavalink/lavaplayer encoded track of version 1, 2 or 3."""
    if not isinstance(encoded, str):
        raise InvalidTrack(f"An encoded track must be a string, got {type(encoded).__name__}.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTrack("Encoded track is not valid base64.") from None
    if len(data) < 4:
        raise InvalidTrack("Encoded track is truncated: it has no header.")
    (header,) = _INT.unpack_from(data)
    flags, size = header >> 30, header & _MAX_MESSAGE
    if 4 + size != len(data):
        raise InvalidTrack(
            f"Encoded track header says {size} bytes follow, but {len(data) - 4} do."
        )
    if size < 8:
        raise InvalidTrack("Encoded track is truncated while reading position.")
    reader = _Reader(data, 4, len(data) - 8)
    version = reader.byte("version") if flags & _FLAG_VERSIONED else 1
    if version not in (1, 2, 3):
        raise InvalidTrack(f"Encoded track version {version} is not supported (1-3).")
    title = reader.utf("title")
    author = reader.utf("author")
    length = reader.long("length")
    identifier = reader.utf("identifier")
    is_stream = reader.boolean("isStream")
    uri = reader.nullable_utf("uri") if version >= 2 else None
    artwork_url = reader.nullable_utf("artworkUrl") if version >= 3 else None
    isrc = reader.nullable_utf("isrc") if version >= 3 else None
    source = reader.utf("sourceName")
    (position,) = _LONG.unpack_from(data, len(data) - 8)
    if position < 0:
        raise InvalidTrack(f"Encoded track has a negative position ({position}).")
    return Track(
        encoded=encoded,
        title=title,
        author=author,
        length=length,
        identifier=identifier,
        is_stream=is_stream,
        is_seekable=not is_stream,
        uri=uri,
        artwork_url=artwork_url,
        isrc=isrc,
        source=source,
        position=position,
    )


def encode_track(track: Track, *, source_extra: bytes = b"") -> str:
    """Encode ``track`` as a version-3 encoded track.

    ``source_extra`` are the source-specific bytes some sources (http, local) write after the
    source name; tracks decoded from Lavalink keep theirs inside ``track.encoded``.
    """
    if not isinstance(track, Track):
        raise InvalidTrack(f"encode_track needs a Track, got {type(track).__name__}.")
    if not isinstance(source_extra, bytes) or len(source_extra) > _MAX_EXTRA:
        raise InvalidTrack(f"Track source_extra must be bytes, at most {_MAX_EXTRA} of them.")
    body = bytearray(b"\x03")
    body += _encode_modified_utf8(track.title, "title")
    body += _encode_modified_utf8(track.author, "author")
    body += _LONG.pack(track.length)
    body += _encode_modified_utf8(track.identifier, "identifier")
    body.append(1 if track.is_stream else 0)
    for what, value in (
        ("uri", track.uri),
        ("artworkUrl", track.artwork_url),
        ("isrc", track.isrc),
    ):
        if value is None:
            body.append(0)
        else:
            body.append(1)
            body += _encode_modified_utf8(value, what)
    body += _encode_modified_utf8(track.source, "sourceName")
    body += source_extra
    body += _LONG.pack(track.position)
    header = _INT.pack(_FLAG_VERSIONED << 30 | len(body))
    return base64.b64encode(header + bytes(body)).decode("ascii")

"""Track values, Lavalink JSON and the encoded-track codec (real strings from Lavalink clients)."""

from __future__ import annotations

import base64
import struct
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies.tracks import tracks
from vectobeat_core.errors import InvalidTrack, VectoBeatError
from vectobeat_core.ids import UserId
from vectobeat_core.tracks import MAX_LONG, Track, decode_track, encode_track

# Lavalink's API docs and client test suites (version 2, flags 1).
RICK_V2 = (
    "QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAAC2RR"
    "dzR3OVdnWGNRAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAA"
    "AA=="
)
# @lavalink/encoding's README (version 2).
SKRILLEX_V2 = (
    "QAAAkwIANFNrcmlsbGV4ICYgSGFic3RyYWt0IC0gQ2hpY2tlbiBTb3VwIFtPZmZpY2lhbCBBdWRpb10ABU9XU0xBAAAAAAAD"
    "LIAACzIyTVdyV1BWX1FNAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9MjJNV3JXUFZfUU0AB3lvdXR1YmUA"
    "AAAAAAAAAA=="
)
# Lavalink4NET's track-decoding docs (version 3, with artwork URL).
RICK_V3 = (
    "QAAA2QMAPFJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAgKE9mZmljaWFsIE11c2ljIFZpZGVvKQALUmlj"
    "ayBBc3RsZXkAAAAAAANACAALZFF3NHc5V2dYY1EAAQAraHR0cHM6Ly93d3cueW91dHViZS5jb20vd2F0Y2g/dj1kUXc0dzlX"
    "Z1hjUQEANGh0dHBzOi8vaS55dGltZy5jb20vdmkvZFF3NHc5V2dYY1EvbWF4cmVzZGVmYXVsdC5qcGcAAAd5b3V0dWJlAAAA"
    "AAAAAAA="
)


def _utf(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw


def _message(body: bytes, flags: int = 1) -> str:
    return base64.b64encode(struct.pack(">I", flags << 30 | len(body)) + body).decode()


def _v1_body(position: int = 0, length: int = 1000) -> bytes:
    return (
        _utf("Song")
        + _utf("Artist")
        + struct.pack(">q", length)
        + _utf("abc")
        + b"\x00"
        + _utf("soundcloud")
        + struct.pack(">q", position)
    )


def lavalink_payload(**info: Any) -> dict[str, Any]:
    base = {
        "identifier": "dQw4w9WgXcQ",
        "isSeekable": True,
        "author": "RickAstleyVEVO",
        "length": 212000,
        "isStream": False,
        "position": 0,
        "title": "Rick Astley - Never Gonna Give You Up",
        "uri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "artworkUrl": None,
        "isrc": None,
        "sourceName": "youtube",
    }
    base.update(info)
    return {"encoded": RICK_V2, "info": base, "pluginInfo": {}, "userData": {}}


class TestRealStrings:
    def test_lavalink_docs_v2(self) -> None:
        track = decode_track(RICK_V2)
        assert track == Track.from_lavalink(lavalink_payload())
        assert track.encoded == RICK_V2

    def test_skrillex_v2(self) -> None:
        track = decode_track(SKRILLEX_V2)
        assert (track.title, track.author, track.length) == (
            "Skrillex & Habstrakt - Chicken Soup [Official Audio]",
            "OWSLA",
            208000,
        )
        assert track.identifier == "22MWrWPV_QM"
        assert track.uri == "https://www.youtube.com/watch?v=22MWrWPV_QM"
        assert (track.source, track.position, track.is_stream) == ("youtube", 0, False)

    def test_v3_with_artwork_reencodes_byte_for_byte(self) -> None:
        track = decode_track(RICK_V3)
        assert track.title == "Rick Astley - Never Gonna Give You Up (Official Music Video)"
        assert track.author == "Rick Astley"
        assert track.length == 213000
        assert track.artwork_url == "https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg"
        assert track.isrc is None
        assert encode_track(track) == RICK_V3

    def test_v2_reencodes_as_v3_with_same_facts(self) -> None:
        track = decode_track(RICK_V2)
        again = decode_track(encode_track(track))
        assert attrs.evolve(again, encoded=RICK_V2) == track
        assert base64.b64decode(encode_track(track))[4] == 3


class TestFormat:
    def test_unversioned_is_version_1(self) -> None:
        track = decode_track(_message(_v1_body(position=42), flags=0))
        assert (track.title, track.author, track.length, track.identifier) == (
            "Song",
            "Artist",
            1000,
            "abc",
        )
        assert (track.uri, track.source, track.position) == (None, "soundcloud", 42)

    def test_source_specific_bytes_are_skipped(self) -> None:
        body = (
            b"\x02"
            + _utf("Radio")
            + _utf("Station")
            + struct.pack(">q", MAX_LONG)
            + _utf("http://radio/x")
            + b"\x01"
            + b"\x01"
            + _utf("http://radio/x")
            + _utf("http")
            + _utf("mp3")  # http source: container probe name
            + struct.pack(">q", 7)
        )
        track = decode_track(_message(body))
        assert track.is_stream
        assert not track.is_seekable
        assert (track.source, track.position, track.length) == ("http", 7, MAX_LONG)
        extra = _utf("mp3")
        assert decode_track(encode_track(track, source_extra=extra)).position == 7
        assert extra in base64.b64decode(encode_track(track, source_extra=extra))

    def test_modified_utf8_nul_and_supplementary(self) -> None:
        track = attrs.evolve(decode_track(RICK_V3), title="a\x00b\U0001f600")
        raw = base64.b64decode(encode_track(track))
        assert b"a\xc0\x80b\xed\xa0\xbd\xed\xb8\x80" in raw
        assert decode_track(encode_track(track)).title == "a\x00b\U0001f600"

    @given(tracks(encoded=False))
    def test_round_trip(self, track: Track) -> None:
        encoded = encode_track(track)
        decoded = decode_track(encoded)
        expected = attrs.evolve(
            track, encoded=encoded, is_seekable=not track.is_stream, requester=None
        )
        assert decoded == expected

    @given(st.binary(max_size=64))
    def test_garbage_never_crashes(self, blob: bytes) -> None:
        message = ""
        try:
            decode_track(base64.b64encode(blob).decode())
        except InvalidTrack as exc:
            message = exc.message
        else:
            message = "decoded"
        assert message


def _body_v3(**overrides: bytes) -> bytes:
    parts = {
        "version": b"\x03",
        "title": _utf("T"),
        "author": _utf("A"),
        "length": struct.pack(">q", 5),
        "identifier": _utf("id"),
        "stream": b"\x00",
        "uri": b"\x00",
        "art": b"\x00",
        "isrc": b"\x00",
        "source": _utf("youtube"),
        "position": struct.pack(">q", 0),
    }
    parts.update(overrides)
    return b"".join(parts.values())


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("not base64!", "not valid base64"),
        ("QUI=", "no header"),
        (_message(b"\x03abc")[:-4] + "AAAA", "header says"),
        (_message(b"\x03abc"), "truncated while reading position"),
        (_message(_body_v3(version=b"\x04")), "version 4 is not supported"),
        (_message(_body_v3(title=b"\x00\x50abc")), "truncated while reading title"),
        (_message(_body_v3(title=b"\x00\x01\xf0")), "invalid text in title"),
        (_message(_body_v3(author=b"\x00\x02\xc3\x28")), "invalid text in author"),
        (_message(_body_v3(author=b"\x00\x03\xed\xa0\xbd")), "invalid text in author"),
        (_message(_body_v3(length=struct.pack(">q", -1))), "negative length"),
        (_message(_body_v3(position=struct.pack(">q", -5))), "negative position"),
        (_message(_body_v3(source=b"")[:-8]), "truncated"),
    ],
)
def test_decode_rejects(encoded: str, message: str) -> None:
    with pytest.raises(InvalidTrack, match=message):
        decode_track(encoded)


def test_decode_rejects_non_string() -> None:
    with pytest.raises(InvalidTrack, match="must be a string"):
        decode_track(b"QUI=")  # type: ignore[arg-type]


def test_encode_rejects() -> None:
    track = decode_track(RICK_V3)
    with pytest.raises(InvalidTrack, match="needs a Track"):
        encode_track("x")  # type: ignore[arg-type]
    with pytest.raises(InvalidTrack, match="source_extra"):
        encode_track(track, source_extra="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidTrack, match="source_extra"):
        encode_track(track, source_extra=b"x" * (1 << 21))
    with pytest.raises(InvalidTrack, match="title is too long"):
        encode_track(attrs.evolve(track, title="é" * 40000))


class TestLavalinkJson:
    def test_round_trip(self) -> None:
        track = Track.from_lavalink(lavalink_payload(isrc="USRC1", artworkUrl="https://a/b.jpg"))
        assert Track.from_lavalink(track.to_lavalink()) == track

    def test_requester_from_user_data_and_argument(self) -> None:
        payload = lavalink_payload()
        payload["userData"] = {"requester": "123"}
        assert Track.from_lavalink(payload).requester == 123
        assert Track.from_lavalink(payload, requester=UserId(9)).requester == 9
        track = Track.from_lavalink(payload)
        assert track.to_lavalink()["userData"] == {"requester": "123"}
        assert Track.from_lavalink(track.to_lavalink()) == track

    def test_optional_fields_default(self) -> None:
        payload = lavalink_payload()
        for key in ("uri", "artworkUrl", "isrc", "position"):
            del payload["info"][key]
        del payload["userData"]
        track = Track.from_lavalink(payload)
        assert (track.uri, track.artwork_url, track.isrc, track.position) == (None, None, None, 0)

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            ([], "must be an object"),
            ({"encoded": "x"}, "'info' is missing"),
            ({"encoded": "x", "info": []}, "'info' is missing"),
            ({"info": {"title": "x"}}, "'encoded' is missing"),
            ({**lavalink_payload(), "encoded": 7}, "'encoded' is missing or not a string"),
            ({**lavalink_payload(), "encoded": ""}, "'encoded' is missing or not a string"),
        ],
    )
    def test_rejects_what_cannot_be_played(self, payload: object, message: str) -> None:
        with pytest.raises(InvalidTrack, match=message) as info:
            Track.from_lavalink(payload)
        assert isinstance(info.value, VectoBeatError)

    @pytest.mark.parametrize(
        ("fields", "attribute", "expected"),
        [
            ({"length": -1}, "length", 0),  # unknown length (local/HTTP tracks on some servers)
            ({"length": -1, "isStream": True, "isSeekable": False}, "length", MAX_LONG),
            ({"length": "long"}, "length", 0),
            ({"length": True}, "length", 0),
            ({"length": 213000.0}, "length", 213000),
            ({"length": "213000"}, "length", 213000),
            ({"length": float("nan")}, "length", 0),
            ({"length": 2**70}, "length", MAX_LONG),
            ({"position": -5}, "position", 0),
            ({"position": MAX_LONG + 1}, "position", MAX_LONG),
            ({"isStream": "no"}, "is_stream", False),
            ({"isStream": 1}, "is_stream", True),
            ({"isStream": "TRUE"}, "is_stream", True),
            ({"isSeekable": 1}, "is_seekable", True),
            ({"isSeekable": None, "isStream": True}, "is_seekable", False),
            ({"title": None}, "title", "Unknown title"),
            ({"author": 42}, "author", "42"),
            ({"uri": 5}, "uri", None),
            ({"artworkUrl": ""}, "artwork_url", None),
            ({"sourceName": None}, "source", "unknown"),
        ],
    )
    def test_normalises_odd_fields_one_by_one(
        self, fields: dict[str, object], attribute: str, expected: object
    ) -> None:
        track = Track.from_lavalink(lavalink_payload(**fields))
        assert getattr(track, attribute) == expected
        assert track.title == (
            expected if attribute == "title" else "Rick Astley - Never Gonna Give You Up"
        )

    @pytest.mark.parametrize("requester", ["x", 0, -1, True, None])
    def test_a_foreign_requester_is_ignored(self, requester: object) -> None:
        payload = {**lavalink_payload(), "userData": {"requester": requester}}
        assert Track.from_lavalink(payload).requester is None

    @given(
        st.dictionaries(
            st.sampled_from(
                [
                    "identifier",
                    "isSeekable",
                    "author",
                    "length",
                    "isStream",
                    "position",
                    "title",
                    "uri",
                    "artworkUrl",
                    "isrc",
                    "sourceName",
                ]
            ),
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        )
    )
    def test_any_info_with_an_encoded_track_is_read(self, info: dict[str, object]) -> None:
        track = Track.from_lavalink({"encoded": "QAAA", "info": info})
        assert 0 <= track.length <= MAX_LONG
        assert 0 <= track.position <= MAX_LONG


class TestCompactJson:
    @given(tracks())
    def test_round_trip(self, track: Track) -> None:
        assert Track.from_json(track.to_json()) == track

    def test_is_compact(self) -> None:
        data = decode_track(RICK_V2).to_json()
        assert set(data) == {"e", "t", "a", "l", "i", "s", "sk", "u"}

    @pytest.mark.parametrize(
        ("obj", "message"),
        [
            ("x", "must be a JSON object"),
            ({"e": "x"}, r"missing field\(s\): t, a, l, i, s\."),
            ({"e": "x", "t": "", "a": "", "l": 1, "i": "i", "s": "s", "q": True}, "requester"),
            ({"e": "x", "t": "", "a": "", "l": 1, "i": "i", "s": "s", "q": "1x"}, "requester"),
            # our own stored form is read strictly (it is not a server's to deviate)
            ({"e": "x", "t": "", "a": "", "l": -3, "i": "i", "s": "s"}, "'length' must be between"),
            ({"e": "x", "t": "", "a": "", "l": "1", "i": "i", "s": "s"}, "must be an integer"),
            (
                {"e": "x", "t": None, "a": "", "l": 1, "i": "i", "s": "s"},
                "'title' must be a string",
            ),
            ({"e": "x", "t": "", "a": "", "l": 1, "i": "i", "s": "s", "u": 5}, "string or null"),
            ({"e": "x", "t": "", "a": "", "l": 1, "i": "i", "s": "s", "st": 1}, "true or false"),
        ],
    )
    def test_rejects(self, obj: object, message: str) -> None:
        with pytest.raises(InvalidTrack, match=message):
            Track.from_json(obj)


def test_key_prefers_uri() -> None:
    track = decode_track(RICK_V2)
    assert track.key == track.uri
    assert attrs.evolve(track, uri=None).key == "youtube:dQw4w9WgXcQ"

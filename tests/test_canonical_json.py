"""The fast canonical form is the canonical form, to the byte: every stored hash depends on it.

records.hashing defines the canonical form of a JSON value as json.dumps with sorted keys, no
spaces and non-ASCII kept, in UTF-8, and writes it with orjson where that gives the same bytes.
These properties compare the two over arbitrary values of every kind events hold (and kinds
they do not, which must take the json.dumps path), and the chain check's reading of stored rows
with hash_of_row's reading of model instances.
"""

import hashlib
import json
import string
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from records.hashing import (
    canonical_time,
    chain_hash,
    digest,
    event_hash,
    stored_event_hash,
)
from records.json_codec import canonical_json, dumps_json, load_json


def json_dumps_canonical(value) -> bytes:
    """The definition, as records.hashing had it before orjson."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode("utf-8")


def outcome(function, *arguments):
    """What a call gives: its result, or the type of what it raises."""
    try:
        return function(*arguments)
    except (UnicodeEncodeError, TypeError, ValueError) as error:
        return type(error)


# Characters that serialisers are known to treat differently: control characters, DEL, the
# line and paragraph separators, quotes and backslashes, the BOM, non-characters, the last BMP
# code point, non-BMP characters, and lone surrogates (which neither may encode as UTF-8).
SPECIAL = [chr(code) for code in range(0x20)] + [
    "\x7f",
    "\x80",
    "\x9f",
    "\u00a0",
    "\u2028",
    "\u2029",
    '"',
    "\\",
    "/",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\ue000",
    "\U0001f600",
    "\U0010ffff",
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
]
characters = st.one_of(st.characters(exclude_categories=()), st.sampled_from(SPECIAL))
texts = st.text(characters, max_size=12)
# Integers near every edge orjson has (64 bits signed and unsigned) and far beyond.
integers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 0, -1]),
)
scalars = st.one_of(st.none(), st.booleans(), integers, texts)
# What events hold: strings, integers, booleans, None, and lists and dicts of them.
event_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=30,
)
floats = st.floats(allow_nan=True, allow_infinity=True)
# And what they must not hold, but might: floats, tuples, non-string keys, subclasses.
odd_values = st.recursive(
    st.one_of(scalars, floats),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(texts, inner, max_size=5),
        st.dictionaries(integers, inner, max_size=3),
    ),
    max_leaves=30,
)


@settings(max_examples=1500)
@given(event_values)
@example("".join(SPECIAL[:-4]))
@example({"\ue000": 1, "\U0001f600": 2, "b": 3, "B": 4, "": 5, "a\x00": 6, "a": 7})
@example([2**64 - 1, 2**64, -(2**63), -(2**63) - 1])
@example(["\ud800"])
def test_the_fast_canonical_form_is_json_dumps_form(value):
    assert outcome(canonical_json, value) == outcome(json_dumps_canonical, value)


@settings(max_examples=500)
@given(odd_values)
@example([1e16, 1e-05, 0.1, -0.0, 1.0, float("inf"), float("nan")])
@example({1: "a", "1": "b"})
def test_values_that_are_not_plain_json_keep_json_dumps_form(value):
    assert outcome(canonical_json, value) == outcome(json_dumps_canonical, value)


def same(left, right) -> bool:
    """Equal and of the same types throughout (1 == 1.0 == True in Python)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float) and left != left:
        return right != right
    return left == right


def as_text(value, style: int) -> str:
    """JSON text as stores write it: Django's json.dumps (ASCII escapes), compact, or as
    PostgreSQL prints jsonb (a space after ':' and ',', non-ASCII kept)."""
    if style == 0:
        return json.dumps(value)
    if style == 1:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=1500)
@given(st.one_of(event_values, odd_values), st.integers(min_value=0, max_value=2))
def test_stored_json_is_read_as_json_loads_reads_it(value, style):
    try:
        text = as_text(value, style)
    except (TypeError, ValueError):
        return
    assert same(load_json(text), json.loads(text))
    assert same(load_json(text.encode("utf-8", "surrogatepass")), json.loads(text))


@given(st.sampled_from(["NaN", "-Infinity", "1e400", '"\\ud800"', '["\\udc00x"]', "-0", "1E5"]))
def test_json_that_orjson_refuses_or_reads_otherwise_is_read_by_json(text):
    assert same(load_json(text), json.loads(text))


@settings(max_examples=1000)
@given(st.one_of(event_values, odd_values))
@example([1e16, 1e-05, 0.1, -0.0, float("inf")])
@example([2**64, "\ud800"])
def test_json_for_a_column_reads_back_as_json_dumps_does(value):
    """What the bulk writer sends a JSON column holds the value json.dumps would have sent."""
    try:
        expected = json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return
    assert same(json.loads(dumps_json(value)), expected)


hex_digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
hashes = st.one_of(hex_digests, texts, st.text(string.ascii_letters + string.digits))


@settings(max_examples=1000)
@given(st.one_of(integers, st.booleans()), hashes, hashes)
@example(1, "0" * 64, "f" * 64)
@example(True, "0" * 64, "f" * 64)
@example(1, 'a"b', "c\\d")
def test_the_formatted_link_is_the_canonical_link(position, previous_hash, content):
    expected = outcome(
        lambda: hashlib.sha256(json_dumps_canonical([position, previous_hash, content]))
    )
    if isinstance(expected, type):
        assert outcome(chain_hash, position, previous_hash, content) == expected
    else:
        assert chain_hash(position, previous_hash, content) == expected.hexdigest()


@settings(max_examples=800)
@given(
    position=st.integers(min_value=1, max_value=2**62),
    previous_hash=hex_digests,
    stream_id=st.uuids().map(str),
    stream_type=texts,
    version=st.integers(min_value=0, max_value=2**31 - 1),
    event_type=texts,
    schema_version=st.integers(min_value=0, max_value=2**15 - 1),
    data=st.one_of(event_values, odd_values),
    metadata=st.one_of(event_values, odd_values),
    recorded_at=st.datetimes(timezones=st.just(UTC)),
    style=st.integers(min_value=0, max_value=2),
)
def test_a_stored_rows_hash_is_its_model_instances_hash(
    position,
    previous_hash,
    stream_id,
    stream_type,
    version,
    event_type,
    schema_version,
    data,
    metadata,
    recorded_at,
    style,
):
    """stored_event_hash, given the stored JSON text, equals event_hash given what Django
    decodes from it (json.loads), or both fail alike."""
    try:
        data_json, metadata_json = as_text(data, style), as_text(metadata, style)
    except (TypeError, ValueError):
        return
    fields = {
        "position": position,
        "stream_id": stream_id,
        "stream_type": stream_type,
        "version": version,
        "event_type": event_type,
        "schema_version": schema_version,
        "previous_hash": previous_hash,
    }

    def model_hash():
        return event_hash(
            **fields,
            data=json.loads(data_json),
            metadata=json.loads(metadata_json),
            recorded_at=recorded_at,
        )

    def stored_hash():
        return stored_event_hash(
            **fields,
            data_json=data_json,
            metadata_json=metadata_json,
            recorded_at=canonical_time(recorded_at),
        )

    assert outcome(stored_hash) == outcome(model_hash)


def test_digest_is_sha256_of_the_canonical_form():
    value = {"b": [1, "é", None, True], "a": "\u2028"}
    assert digest(value) == hashlib.sha256(json_dumps_canonical(value)).hexdigest()


# Hashes computed by the definition alone (json.dumps and hashlib, before orjson came in): a
# later orjson, or a change here, that wrote other bytes would break every stored hash.
KNOWN_DIGESTS = [
    (
        {
            "names": [
                {"name": "浙贛作戦", "primary": True},
                {"name": "Чжэцзян", "primary": False},
                {"name": "عملية"},
            ],
            "kind": "event",
        },
        "b5e1cd340fdd82f71513dc2800153c5abb59bd289e228f1d8de880bc9a3e8f6a",
    ),
    (
        [
            "tab\there",
            "nul\x00",
            "del\x7f",
            "line\u2028sep",
            'quote"back\\slash',
            "bom\ufeff",
            "emoji\U0001f600",
        ],
        "6c7d792de7caf71f39c17bb2502085482f974b888e076b286ce45bb75f513da5",
    ),
    (
        [0, -1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, True, None],
        "628e1d50d7a92cd2aab1484b72f513749f58b588e5f9949c0674d1c15533d3db",
    ),
    ([0.1, 1e16, 1e-05, -0.0], "893e095fd581fa0fb966097a7e6ba6efbb0b783b265d5c5197a1a396e88e785f"),
    (
        {"b": 1, "B": 2, "": 3, "\ue000": 4, "\U0001f600": 5, "a\x00": 6},
        "e4822707dfdb35f90140dff575cd4438593d3c884d385f1606d35d6cbc9b4e65",
    ),
]


def test_digests_are_the_ones_computed_before_orjson():
    for value, known in KNOWN_DIGESTS:
        assert digest(value) == known, value


def test_an_event_hash_is_the_one_computed_before_orjson():
    arguments = dict(
        position=42,
        stream_id="6f1c0e64-1b7e-4a52-9d7e-3c4f9b0c2a11",
        stream_type="claim",
        version=3,
        event_type="ClaimRevised",
        schema_version=1,
        previous_hash="0" * 64,
    )
    data, metadata = (
        KNOWN_DIGESTS[0][0],
        {"actor_id": 7, "reason": "Recounted — per the 1946 report"},
    )
    moment = datetime(1942, 9, 30, 23, 59, 59, 123456, tzinfo=UTC)
    known = "044f92ae5b96d3d0488aa5543b2c05e736b09a4292b6b8a35b799c43f429d0bf"
    assert event_hash(data=data, metadata=metadata, recorded_at=moment, **arguments) == known
    stored = stored_event_hash(
        data_json=json.dumps(data),
        metadata_json=json.dumps(metadata),
        recorded_at=canonical_time(moment),
        **arguments,
    )
    assert stored == known


def test_values_nested_deeper_than_a_walk_can_go_are_written_as_json_writes_them():
    nested: list = ["bottom"]
    for _ in range(400):
        nested = [nested]
    metadata = {"actor_id": 1, "x": nested}
    assert canonical_json(metadata) == json_dumps_canonical(metadata)
    assert json.loads(dumps_json(metadata)) == metadata
    text = json.dumps(metadata)
    assert load_json(text) == json.loads(text)

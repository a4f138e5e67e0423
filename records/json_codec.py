"""JSON read and written exactly as the standard library does, faster where that is exact.

The hash chain's canonical form of a JSON value is ``json.dumps(value, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` in UTF-8: every stored hash was computed over it, so
it can never change. orjson writes the very same bytes, several times faster, for values made
only of dicts, lists, strings, integers, booleans and None (property-based tests in
tests/test_canonical_json.py check it over arbitrary such values, and known-answer tests pin
hashes computed before orjson came in); anything else (a float, whose digits the two libraries
may print differently, an integer beyond 64 bits, a lone surrogate, a subclass, a value nested
too deep to walk) goes through ``json`` as before. Reading likewise: orjson decodes, unless the
value holds a float.
"""

import json

import orjson

_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})
_PLAIN_CONTAINERS = frozenset({dict, list, tuple})
_PLAIN_TYPES = _PLAIN_SCALARS | _PLAIN_CONTAINERS


def is_plain(value) -> bool:
    """Whether ``value`` holds nothing but dicts, lists, tuples, strings, integers, booleans and
    None, by exact type: the values whose canonical form orjson writes as json.dumps does."""
    kind = type(value)
    if kind is dict:
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return kind in _PLAIN_SCALARS
    kinds = set(map(type, items))
    if kinds <= _PLAIN_SCALARS:  # the common case, checked in C
        return True
    return kinds <= _PLAIN_TYPES and all(
        is_plain(item) for item in items if type(item) in _PLAIN_CONTAINERS
    )


def _json_dumps_canonical(value) -> bytes:
    """The definition of the canonical form."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode("utf-8")


def canonical_plain(value) -> bytes:
    """The canonical form of a value ``is_plain`` accepts."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits, a lone surrogate, a key that is not a string: json.dumps
        # serialises the first two (and the encoding then refuses the surrogate, as it always
        # did) and turns the key into a string.
        return _json_dumps_canonical(value)


def _known_plain(value) -> bool:
    """``is_plain(value)``, False for a value nested too deep to walk (json.dumps, in C, writes
    what Python's recursion limit stops a walk of)."""
    try:
        return is_plain(value)
    except RecursionError:
        return False


def canonical_json(value) -> bytes:
    """A JSON value's canonical bytes: sorted keys, no spaces, UTF-8, non-ASCII kept."""
    return canonical_plain(value) if _known_plain(value) else _json_dumps_canonical(value)


def _holds_float(value) -> bool:
    """Whether a value decoded from JSON holds a float anywhere (it holds no other odd type)."""
    kind = type(value)
    if kind is dict:
        items = value.values()
    elif kind is list:
        items = value
    else:
        return kind is float
    for item in items:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _holds_float(item)):
            return True
    return False


def load_exact(text: str | bytes) -> tuple[object, bool]:
    """``json.loads(text)``, and whether the value is plain (see ``is_plain``).

    orjson decodes it when it gives the very same value: when the value holds no float. Floats
    are left to json, which may read their digits differently, and so are integers beyond 64
    bits, which orjson reads as floats (so a float in its result means "ask json")."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. NaN, 1e400 or a lone surrogate, which json accepts
        return json.loads(text), False
    try:
        holds_float = _holds_float(value)
    except RecursionError:  # nested too deep to walk: json decides, as in canonical_json
        holds_float = True
    if holds_float:
        return json.loads(text), False
    return value, True


def load_json(text: str | bytes):
    """Decode stored JSON exactly as ``json.loads`` would, faster."""
    return load_exact(text)[0]


def dumps_json(value) -> str:
    """JSON text of ``value`` for a database JSON column: what ``json.dumps`` writes, up to
    spaces, key order (which jsonb does not keep) and escapes (``\\u00e9``) of non-ASCII
    characters, orjson's where that is exact."""
    if _known_plain(value):
        try:
            return orjson.dumps(value).decode("utf-8")
        except orjson.JSONEncodeError:
            pass  # as in canonical_plain
    return json.dumps(value)

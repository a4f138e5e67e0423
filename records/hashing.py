"""The hash chain: what bytes an event's hash covers, and how the chain is checked.

An event's hash covers canonical JSON (records.json_codec.canonical_json): sorted keys, no spaces,
UTF-8, non-ASCII kept, exactly as ``json.dumps`` has always written it.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from records.json_codec import canonical_json, canonical_plain, load_exact

GENESIS_HASH = "0" * 64

# What a chain check reports of the first event that fails, in the order it checks.
OUT_OF_ORDER = "position out of order"
BROKEN_LINK = "previous_hash does not match the event before"
WRONG_HASH = "hash does not match the event's contents"


def canonical_time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def digest(value) -> str:
    """SHA-256 of a JSON value's canonical form: sorted keys, no spaces, UTF-8, non-ASCII kept."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def content_digest(
    *,
    stream_id: str,
    stream_type: str,
    version: int,
    event_type: str,
    schema_version: int,
    data: dict,
    metadata_digest: str,
    recorded_at: datetime,
) -> str:
    """What happened, in one digest. The metadata (actor, reason) enters as its own digest, so a
    public feed can let mirrors check an event without showing who did it."""
    return digest(
        [
            str(stream_id),
            stream_type,
            version,
            event_type,
            schema_version,
            data,
            metadata_digest,
            canonical_time(recorded_at),
        ]
    )


def _is_token(text) -> bool:
    # ASCII letters and digits only (a hex digest): JSON writes such a string as it is, quoted.
    # (bytes.isalnum knows only ASCII, and runs several times faster than str.isalnum.)
    return type(text) is str and text.isascii() and text.encode("ascii").isalnum()


def chain_hash(position: int, previous_hash: str, content: str) -> str:
    """The link: an event's position, the hash before it, and its content digest."""
    if type(position) is int and _is_token(previous_hash) and _is_token(content):
        # digest([position, previous_hash, content]) to the byte, without a serialiser: an int
        # prints as repr does, and neither string needs escaping (test_canonical_json.py).
        link = f'[{position},"{previous_hash}","{content}"]'
        return hashlib.sha256(link.encode("ascii")).hexdigest()
    return digest([position, previous_hash, content])


def event_hash(
    *,
    position: int,
    stream_id: str,
    stream_type: str,
    version: int,
    event_type: str,
    schema_version: int,
    data: dict,
    metadata: dict,
    recorded_at: datetime,
    previous_hash: str,
) -> str:
    """The stored hash: it binds every stored field and the previous event's hash.

    hash = H([position, previous_hash, H([stream_id, stream_type, version, event_type,
              schema_version, data, H(metadata), recorded_at])])
    where H is SHA-256 over canonical JSON. A mirror that receives a non-public event's content
    digest alone can still check every link of the chain."""
    content = content_digest(
        stream_id=stream_id,
        stream_type=stream_type,
        version=version,
        event_type=event_type,
        schema_version=schema_version,
        data=data,
        metadata_digest=digest(metadata),
        recorded_at=recorded_at,
    )
    return chain_hash(position, previous_hash, content)


def hash_of_row(row, previous_hash: str) -> str:
    return event_hash(
        position=row.position,
        stream_id=row.stream_id,
        stream_type=row.stream_type,
        version=row.version,
        event_type=row.event_type,
        schema_version=row.schema_version,
        data=row.data,
        metadata=row.metadata,
        recorded_at=row.recorded_at,
        previous_hash=previous_hash,
    )


def stored_event_hash(
    *,
    position: int,
    stream_id: str,
    stream_type: str,
    version: int,
    event_type: str,
    schema_version: int,
    data_json: str | bytes,
    metadata_json: str | bytes,
    recorded_at: str,
    previous_hash: str,
) -> str:
    """``event_hash`` of an event read raw from the log: its JSON columns as the stored text, its
    time already in canonical form (``canonical_time``). The very hash ``hash_of_row`` gives for
    the model instance (whose JSON Django decodes with json.loads), at a fraction of the cost:
    each document is decoded once, by orjson where that is exact, and written back by orjson
    without a second look at its types."""
    metadata, metadata_plain = load_exact(metadata_json)
    data, data_plain = load_exact(data_json)
    metadata_bytes = canonical_plain(metadata) if metadata_plain else canonical_json(metadata)
    content = [
        str(stream_id),
        stream_type,
        version,
        event_type,
        schema_version,
        data,
        hashlib.sha256(metadata_bytes).hexdigest(),
        recorded_at,
    ]
    # Besides the data, the list holds what the columns' types allow: strings and integers (and
    # None, should a time have no canonical form), all plain.
    content_bytes = canonical_plain(content) if data_plain else canonical_json(content)
    return chain_hash(position, previous_hash, hashlib.sha256(content_bytes).hexdigest())


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_position: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None


def verify_chain(rows: Iterable, on_row: Callable[[], None] | None = None) -> ChainReport:
    """Walk events in position order; name the first whose link or hash does not hold.
    (verify_archive reads the log raw instead: records.chain_check.check_log_chain.)"""
    previous_hash = GENESIS_HASH
    previous_position = 0
    checked = 0
    for row in rows:
        if row.position <= previous_position:
            return ChainReport(checked, row.position, OUT_OF_ORDER)
        if row.previous_hash != previous_hash:
            return ChainReport(checked, row.position, BROKEN_LINK)
        if hash_of_row(row, previous_hash) != row.hash:
            return ChainReport(checked, row.position, WRONG_HASH)
        previous_hash, previous_position = row.hash, row.position
        checked += 1
        if on_row is not None:
            on_row()
    return ChainReport(checked)


def verify_feed(entries: Iterable[dict], previous_hash: str = GENESIS_HASH) -> ChainReport:
    """What a mirror runs on the change feed it received (as JSON): every link must hold, and
    every hash must follow from the entry's content (public fields, or the content digest)."""
    checked = 0
    for entry in entries:
        if entry["previous_hash"] != previous_hash:
            return ChainReport(checked, entry["position"], "previous_hash does not match")
        if entry["public"]:
            event = entry["event"]
            content = digest(
                [
                    event["stream_id"],
                    event["stream_type"],
                    event["version"],
                    event["event_type"],
                    event["schema_version"],
                    event["data"],
                    event["metadata_digest"],
                    event["recorded_at"],
                ]
            )
        else:
            content = entry["content_digest"]
        if chain_hash(entry["position"], previous_hash, content) != entry["hash"]:
            return ChainReport(checked, entry["position"], "hash does not match the content")
        previous_hash = entry["hash"]
        checked += 1
    return ChainReport(checked)

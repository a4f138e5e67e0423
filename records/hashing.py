"""The hash chain: what bytes an event's hash covers, and how the chain is checked."""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


def canonical_time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def digest(value) -> str:
    """SHA-256 of a JSON value's canonical form: sorted keys, no spaces, UTF-8, non-ASCII kept."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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


def chain_hash(position: int, previous_hash: str, content: str) -> str:
    """The link: an event's position, the hash before it, and its content digest."""
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


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_position: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None


def verify_chain(rows: Iterable, on_row: Callable[[], None] | None = None) -> ChainReport:
    """Walk events in position order; name the first whose link or hash does not hold."""
    previous_hash = GENESIS_HASH
    previous_position = 0
    checked = 0
    for row in rows:
        if row.position <= previous_position:
            return ChainReport(checked, row.position, "position out of order")
        if row.previous_hash != previous_hash:
            return ChainReport(
                checked, row.position, "previous_hash does not match the event before"
            )
        if hash_of_row(row, previous_hash) != row.hash:
            return ChainReport(checked, row.position, "hash does not match the event's contents")
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

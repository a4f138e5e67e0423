"""The benchmark's import catalogue is a file an archivist could import: claims come after the
source they cite and the subjects they name, and a file cut short still holds claims."""

import json

import pytest

from bench import import_file
from records.bulk_import import import_records
from records.models import PublishedSource, PublishedSubject
from records.seeding import load_seeds


@pytest.fixture
def seeded(archivist, reviewer):
    load_seeds(archivist=archivist, reviewer=reviewer)


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.django_db
def test_a_short_catalogue_holds_claims_after_what_they_refer_to(seeded, tmp_path):
    # As many lines as the published sources and subjects: taking them all first, as the
    # catalogue once did, left no room for a single claim.
    short = PublishedSource.objects.count() + PublishedSubject.objects.count()
    path = tmp_path / "catalogue.jsonl"
    kinds = import_file.write(path, 0, short)
    lines = _lines(path)
    assert kinds.total() == len(lines) == short
    assert kinds["claim"] > 0
    given = set()
    for line in lines:
        if line["record"] == "claim":
            named = {line["subject_id"], line["citation"]["source_id"]}
            named.add(line["value"].get("subject_id", line["subject_id"]))
            assert named <= given, f"claim {line['id']} comes before what it refers to"
        given.add(line["id"])


@pytest.mark.django_db
def test_the_catalogue_imports_and_repeats_with_ids_of_its_own(seeded, archivist, tmp_path):
    whole = sum(1 for _ in import_file._catalogue("probe"))  # the published records, once
    path = tmp_path / "catalogue.jsonl"
    kinds = import_file.write(path, 1, whole + whole // 2)
    ids = [line["id"] for line in _lines(path)]
    assert len(set(ids)) == len(ids) == whole + whole // 2
    report = import_records(path.read_bytes().splitlines(), actor=archivist)
    assert report.new == {
        "source": kinds["source"],
        "subject": kinds["subject"],
        "claim": kinds["claim"],
    }

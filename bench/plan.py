"""What the synthetic archive holds, planned in pure Python before any command runs.

The archive is a series of *dossiers*. A dossier is what an archivist works through in one
go: four sources about one region and year (each with its full text), the subjects they
mention (events, people, a place, with names in several scripts) and, for each fact, about
three conflicting claims from different sources, each quoting its source's passage exactly.
Each claim also carries its review script: revisions, requested changes, comments, a rank.

A dossier depends only on (seed, label, index): it is planned from its own random.Random and
its ids are uuid5s of those, so any process can plan any dossier, in any order, and get the
same one. That lets writers in separate processes share out the work without talking.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from bench import names

NAMESPACE = uuid.UUID("b3c1f0de-6a57-4c1e-9f3a-5e2d7c4b8a90")

# Properties are shared vocabulary, the same in every dossier and every run.
COUNT = {"value_type": "quantity", "unit": "persons", "count": True}
PROPERTIES = {
    "deaths": {"label": "deaths", **COUNT},
    "displaced": {"label": "people displaced", **COUNT},
    "start-date": {"label": "start date", "value_type": "date"},
    "end-date": {"label": "end date", "value_type": "date"},
    "birth-date": {"label": "date of birth", "value_type": "date"},
    "death-date": {"label": "date of death", "value_type": "date"},
    "population": {"label": "population", **COUNT},
}
# A typical size for each counted property; a fact's true figure is drawn around it.
TYPICAL = {"deaths": 20_000, "displaced": 120_000, "population": 800_000}
EVENT_PROPERTIES = ["deaths", "displaced", "start-date", "end-date"]

# (publisher, author, the voice a claim is attributed to, genre of document)
ORIGINS = [
    ("Provincial Relief Committee", "Committee secretariat", "the provincial relief committee"),
    ("International Committee of the Red Cross", "ICRC delegation", "the Red Cross delegation"),
    ("Army General Staff, war history office", "Staff historians", "Japanese army records"),
    ("County Gazetteer Office", "Gazetteer compilers", "the county gazetteer"),
    ("Oral History Project", "Project interviewers", "survivors interviewed in 1985"),
    ("Mission Hospital", "Hospital superintendent", "the mission hospital's register"),
]
GENRES = ["Report on", "Survey of", "Records of", "Chronicle of", "Testimonies from"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SENTENCES = {
    "deaths": "According to {voice}, {v} people died in the {subject}.",
    "displaced": "{Voice} counted {v} people driven from their homes by the {subject}.",
    "start-date": "{Voice} dates the beginning of the {subject} to {v}.",
    "end-date": "In the account of {voice}, the {subject} was over by {v}.",
    "birth-date": "{Voice} gives {v} as the date of birth of {subject}.",
    "death-date": "{Voice} records the death of {subject} as {v}.",
    "population": "{Voice} put the population of {subject} at {v}.",
}
FILLER = [
    "Figures were compiled from the returns of village headmen and checked where possible.",
    "Several pages of the original are water-damaged; the readings are the editor's.",
    "The district lay along the river, and most villages could be reached only on foot.",
    "Roads had been cut in several places, and messengers took days to arrive.",
    "Later compilers corrected some totals without saying which.",
    "The figures for the outlying townships are admitted to be incomplete.",
]
NOTES = [
    "Transcribed from the microfilm copy.",
    "Checked the figure against the printed table.",
    "Names are spelled as in the original.",
    "Cross-checked with the volume's index.",
    "Page reference confirmed against the bound copy.",
    "Wording of the quote checked twice.",
    "Reviewed after the reviewer's request.",
]
REASONS = [
    "Add the transcription note.",
    "Correct the locator.",
    "Name the attribution in full.",
    "Address the reviewer's request.",
    "Record the cross-check.",
    "Clarify the note.",
    "Update after re-reading the source.",
]


def record_id(seed: int, label: str, *parts) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(part) for part in (seed, label, *parts)))


def property_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"property:{key}")


@dataclass
class SourcePlan:
    id: uuid.UUID
    fields: dict  # register_source's arguments
    voice: str
    revise: bool  # add an archive reference after publication, and publish that
    paragraphs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SubjectPlan:
    id: uuid.UUID
    kind: str
    names: list[dict]
    revise: bool  # add a name after publication, and publish that


@dataclass(frozen=True)
class ClaimPlan:
    id: uuid.UUID
    subject_id: uuid.UUID
    property_key: str
    # versions[0] is registered; each later one is a revision (value, citation, attributed_to,
    # note), used in order: draft revisions, then one after changes are requested, then one
    # after publication.
    versions: list[dict]
    draft_revisions: int
    review_comment: bool
    changes_requested: bool
    approve_comment: str
    rank: str | None
    retract: bool
    late_revision: bool


@dataclass(frozen=True)
class Dossier:
    sources: list[SourcePlan]
    subjects: list[SubjectPlan]
    facts: list[list[ClaimPlan]]  # each fact's claims


def _round(number: int, digits: int = 2) -> int:
    return int(float(f"{number:.{digits}g}"))


def _quantity(rng: random.Random, base: int) -> tuple[str, dict]:
    """One source's reading of a number: exact, approximate, or a range."""
    number = max(1, round(base * rng.uniform(0.55, 1.6)))
    style = rng.random()
    if style < 0.35:
        return f"{number:,}", {"best": number}
    if style < 0.75:
        rounded = max(1, _round(number))
        return f"about {rounded:,}", {"best": rounded, "approximate": True}
    lower, upper = _round(number * 0.8), _round(number * 1.25)
    return f"between {lower:,} and {upper:,}", {"lower": lower, "upper": upper}


def _date(rng: random.Random, year: int, month: int) -> tuple[str, dict]:
    """One source's reading of a date: a day, part of a month, a month, or a year."""
    month = min(12, max(1, month + rng.choice([-1, 0, 0, 1])))
    name, style = MONTHS[month - 1], rng.random()
    if style < 0.35:
        day = rng.randint(1, 28)
        return f"{day} {name} {year}", {"edtf": f"{year}-{month:02d}-{day:02d}"}
    if style < 0.65:
        part = rng.choice(["early", "mid", "late"])
        return f"{part} {name} {year}", {"edtf": f"{year}-{month:02d}", "part": part}
    if style < 0.9:
        return f"{name} {year}", {"edtf": f"{year}-{month:02d}"}
    return str(year), {"edtf": str(year)}


def _truth(rng: random.Random, key: str, year: int) -> tuple[int, ...]:
    """What a fact really is: a number, or a (year, month). Its sources each report it with
    their own error, so a fact's claims disagree the way real estimates do: around one value."""
    if key in TYPICAL:
        return (round(TYPICAL[key] * rng.uniform(0.1, 3)),)
    if key == "birth-date":
        year -= rng.randint(25, 60)
    elif key == "death-date":
        year += rng.randint(0, 30)
    return year, rng.randint(1, 12)


def _reading(rng: random.Random, key: str, truth: tuple[int, ...]) -> tuple[str, dict]:
    """The fact as one source gives it: its wording in the text, and the typed value."""
    if key in TYPICAL:
        return _quantity(rng, truth[0])
    return _date(rng, *truth)


def _versions(rng: random.Random, base: dict, count: int) -> list[dict]:
    """The registered fields and ``count - 1`` revisions, each differing from the one before
    (a revision that changes nothing is refused): a note, a locator, a fuller attribution."""
    versions, notes = [base], rng.sample(range(len(NOTES)), len(NOTES))
    for step in range(1, count):
        revised = dict(versions[-1], note=NOTES[notes[step % len(NOTES)]])
        if step == 1:
            revised["citation"] = dict(
                base["citation"], locator=base["citation"]["locator"] + ", p. 2"
            )
        if step == 2:
            revised["attributed_to"] = base["attributed_to"] + " (as printed)"
        versions.append(revised)
    return versions


def _claim(
    rng: random.Random, claim_id: uuid.UUID, first: bool, key: str, truth, subject, source
) -> ClaimPlan:
    """One source's claim on a fact; ``first``: the fact's first claim, the one a reviewer
    may prefer."""
    wording, value = _reading(rng, key, truth)
    voice = source.voice
    quote = SENTENCES[key].format(
        voice=voice, Voice=voice[0].upper() + voice[1:], v=wording, subject=subject.names[0]["name"]
    )
    # The quote is written into the source's text here, so it is a real passage of that text;
    # its offset is given, so the command checks it there instead of searching for it.
    filler = rng.choice(FILLER) + " "
    start = sum(len(paragraph) + 2 for paragraph in source.paragraphs) + len(filler)
    source.paragraphs.append(filler + quote + " " + rng.choice(FILLER))
    draft_revisions = rng.choice([1, 1, 2, 2, 3])
    changes_requested = rng.random() < 0.4
    retract = rng.random() < 0.03
    late_revision = rng.random() < 0.3 and not retract
    base = {
        "value": {"original": wording, **value},
        "citation": {
            "source_id": str(source.id),
            "locator": f"paragraph {len(source.paragraphs) - 1}",
            "quote": quote,
            "start": start,
        },
        "attributed_to": voice[0].upper() + voice[1:],
        "note": "",
    }
    rank = None
    if first and rng.random() < 0.4:
        rank = "preferred"
    elif rng.random() < 0.08:
        rank = "deprecated"
    return ClaimPlan(
        id=claim_id,
        subject_id=subject.id,
        property_key=key,
        versions=_versions(rng, base, 1 + draft_revisions + changes_requested + late_revision),
        draft_revisions=draft_revisions,
        review_comment=rng.random() < 0.5,
        changes_requested=changes_requested,
        approve_comment=rng.choice(["", "Checked against the source.", "Quote verified."]),
        rank=rank,
        retract=retract,
        late_revision=late_revision,
    )


def plan_dossier(seed: int, label: str, index: int) -> Dossier:
    """Dossier ``index`` of the archive or workload called ``label``."""
    rng = random.Random(f"{seed}:{label}:{index}")
    year = rng.randint(1920, 1960)
    places = rng.sample(names.PLACES, 4)
    sources = []
    for number, (publisher, author, voice) in enumerate(rng.sample(ORIGINS, 4)):
        title = f"{rng.choice(GENRES)} {places[0][0]} and its neighbours, {year}"
        place = places[0]
        heading = (
            f"{title}\n\nThe district of {place[0]} ({place[1]}; {place[2]}; {place[3]}; "
            f"{place[5]}; {place[6]}) and its neighbours, as {voice} saw them."
        )
        sources.append(
            SourcePlan(
                id=record_id(seed, label, index, "source", number),
                fields={
                    "title": title,
                    "author": author,
                    "publisher": publisher,
                    "published": str(year + rng.randint(0, 40)),
                    "url": f"https://archive.example.org/{label}/{index}/{number}",
                    "accessed": "2024-05-01",
                    "licence": "CC BY 4.0",
                    "attribution": f"{author}, {publisher}.",
                },
                voice=voice,
                revise=rng.random() < 0.25,
                paragraphs=[heading],
            )
        )
    subjects = [
        SubjectPlan(
            id=record_id(seed, label, index, "subject", n),
            kind="event",
            names=names.event_names(rng.choice(names.EVENT_KINDS), place, year),
            revise=rng.random() < 0.25,
        )
        for n, place in enumerate(places)
    ]
    subjects += [
        SubjectPlan(
            id=record_id(seed, label, index, "subject", 4 + n),
            kind="person",
            names=names.person_names(rng),
            revise=rng.random() < 0.25,
        )
        for n in range(2)
    ]
    subjects.append(
        SubjectPlan(
            id=record_id(seed, label, index, "subject", 6),
            kind="place",
            names=names.place_names(places[0]),
            revise=False,
        )
    )
    wanted = [(subject, key) for subject in subjects[:4] for key in rng.sample(EVENT_PROPERTIES, 3)]
    wanted += [(subject, key) for subject in subjects[4:6] for key in ("birth-date", "death-date")]
    wanted.append((subjects[6], "population"))
    facts = []
    for fact_no, (subject, key) in enumerate(wanted):
        truth = _truth(rng, key, year)
        claims = []
        for n, source in enumerate(rng.sample(sources, 3)):
            claim_id = record_id(seed, label, index, "claim", fact_no, n)
            claims.append(_claim(rng, claim_id, n == 0, key, truth, subject, source))
        facts.append(claims)
    for source in sources:
        source.fields["full_text"] = "\n\n".join(source.paragraphs)
    return Dossier(sources=sources, subjects=subjects, facts=facts)

"""Small builders for test records, all going through the commands."""

from records import commands

TEXT = (
    "On April 18, 1942, the raid took place. Chinese estimates put the death toll at 250,000 "
    "civilians. Others say around 200,000 died. 浙贛作戦 is the Japanese name."
)


def source(actor, **overrides):
    fields = {"title": "Test source", "full_text": TEXT, "licence": "CC BY-SA 4.0"}
    fields.update(overrides)
    return commands.register_source(actor=actor, **fields)


def subject(actor, name="Zhejiang-Jiangxi Campaign", kind="event", **overrides):
    return commands.register_subject(
        actor=actor, kind=kind, names=[{"name": name, "language": "en"}], **overrides
    )


def quantity_property(actor, key="civilian-deaths", **overrides):
    fields = {"label": key.replace("-", " "), "value_type": "quantity", "unit": "persons"}
    fields["count"] = True
    fields.update(overrides)
    return commands.define_property(actor=actor, key=key, **fields)


def date_property(actor, key="end-date"):
    return commands.define_property(actor=actor, key=key, label="end date", value_type="date")


def deaths_claim(actor, *, subject_record, prop, src, best=250000, quote=None, **overrides):
    return commands.register_claim(
        actor=actor,
        subject_id=subject_record.pk,
        property_id=prop.pk,
        value={"original": f"{best:,}", "best": best},
        citation={
            "source_id": src.pk,
            "locator": "p. 1",
            "quote": quote or "Chinese estimates put the death toll at 250,000 civilians.",
        },
        **overrides,
    )


def publish(record, kind: str, *, author, reviewer):
    """Submit the record's current revision as ``author`` and approve it as ``reviewer``."""
    commands.submit_for_review(record_type=kind, record_id=record.pk, actor=author)
    return commands.approve_revision(
        record_type=kind, record_id=record.pk, revision=record.revision, actor=reviewer
    )


def published_world(author, reviewer):
    """A published source and subject, and a count property: ready for claims."""
    src = publish(source(author), "source", author=author, reviewer=reviewer)
    subj = publish(subject(author), "subject", author=author, reviewer=reviewer)
    return {"source": src, "subject": subj, "deaths": quantity_property(author)}

"""The staff admin: archivists register and revise records, reviewers decide on them. Every save
and every button calls a command (records.commands); nothing here writes a model. Modules:
``command_form`` (forms that save through a command), ``forms`` (one per record type),
``review`` (the review buttons), ``records`` (the model admins)."""

from records.admin import records  # noqa: F401 - registers the model admins

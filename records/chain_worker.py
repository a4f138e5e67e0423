"""``python -m records.chain_worker``: the second half of a chain check, in a process of its own.

``records.chain_check`` starts it for a long log. It reads one JSON line on stdin: the
connection settings of the caller's database (``NAME``, ``USER``, ``PASSWORD``, ``HOST``,
``PORT``: a test database, say, which the settings would not name), the position after which to
check, the stored hash that the next event must link to, and the page size. On stdout it writes
a ``PAGE`` line with the number of events of each page it has checked, then a ``REPORT`` line
with its report as a JSON object; the caller reads no other line, whatever else may print there.
A command of its own rather than ``multiprocessing``: a spawned process would import its
caller's main module again, which not every caller guards.
"""

from __future__ import annotations

import json
import os
import sys

DATABASE_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
PAGE = "strata-chain-worker page "
REPORT = "strata-chain-worker report "


def main() -> None:
    task = json.loads(sys.stdin.readline())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")
    import django

    django.setup()
    from django.db import connection

    from records.chain_check import walk_the_log

    connection.settings_dict.update(task["database"])
    try:
        report = walk_the_log(
            after=task["after"],
            previous_hash=task["previous_hash"],
            page_size=task["page_size"],
            on_page=_tell,
        )
    finally:
        connection.close()
    print(REPORT + json.dumps(vars(report)), flush=True)


def _tell(events: int) -> bool:
    print(f"{PAGE}{events}", flush=True)
    return True


if __name__ == "__main__":
    main()

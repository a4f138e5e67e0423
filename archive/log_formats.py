"""The log line formats, shared by the app's LOGGING (settings) and gunicorn's own log
(deploy/gunicorn.conf.py), so that every line a process writes has the same shape.

LOG_FORMAT picks one: "json", one object per line for a log collector, with "time" in ISO 8601
and UTC, which collectors parse without being told a format; or "text", for people.
"""

LOG_FORMATTERS = {
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "timestamp": "time",
        "rename_fields": {"levelname": "level", "name": "logger"},
    },
    "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
}

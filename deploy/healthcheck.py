"""Ask the app in this container whether it is healthy: `python deploy/healthcheck.py [PATH]`.

PATH is /healthz (default: the process answers) or /readyz (the database answers and every
migration is applied). Exits 0 on a 200, 1 otherwise. The image's HEALTHCHECK and compose's
app healthcheck run it; slim images have no curl.

The request goes to 127.0.0.1 over plain HTTP (both paths are exempt from the HTTPS redirect)
with a Host header that ALLOWED_HOSTS admits, since Django answers 400 to any other.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host() -> str:
    """localhost when ALLOWED_HOSTS admits it, else its first plain name."""
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts or "localhost" in hosts or "*" in hosts:
        return "localhost"  # the settings' default admits localhost
    # ".example.org" admits example.org and its subdomains.
    return hosts[0].lstrip(".")


def main(path: str = "/healthz") -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}"
    request = urllib.request.Request(url, headers={"Host": probe_host()})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))

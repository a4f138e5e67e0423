"""Read replicas: public API reads reach a replica, writes and staff reads the primary.

The proof runs for real: it starts a PostgreSQL primary and a second cluster made from it with
``pg_basebackup`` as a streaming replica, both on loopback ports, and gunicorn serving the app with
``DATABASE_URL`` on the primary and ``DATABASE_REPLICA_URLS`` on the replica. It starts its own
primary rather than reconfiguring the machine's server: a replica needs replication access in the
primary's pg_hba.conf, which the proof should not edit on a shared server.

The replica's replay is paused to make the two databases differ: what the public API shows then
tells which one answered. Needs PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup);
without them it skips, or fails under CI.
"""

from __future__ import annotations

import glob
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.test import RequestFactory

from archive import replicas

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "strata"


# -- the routing rules, on both backends ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "cookies", "replica"),
    [
        ("GET", "/api/v1/facts/", {}, True),
        ("HEAD", "/api/v1/changes/", {}, True),
        # A session cookie alone proves nothing (see the staff cookie below).
        ("GET", "/api/v1/facts/", {"sessionid": "made-up"}, True),
        ("POST", "/api/v1/facts/", {}, False),
        ("GET", "/admin/records/claim/", {}, False),
        ("GET", "/readyz", {}, False),
    ],
)
def test_only_public_reads_go_to_a_replica(method, path, cookies, replica):
    request = RequestFactory().generic(method, path)
    request.COOKIES.update(cookies)
    assert replicas.reads_from_replica(request) is replica


def test_the_router_writes_to_the_primary_and_reads_where_the_request_was_sent():
    router = replicas.PrimaryReplicaRouter()
    assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    token = replicas._read_alias.set("replica_1")
    try:
        assert router.db_for_read(None) == "replica_1"
        assert router.db_for_write(None) == DEFAULT_DB_ALIAS
    finally:
        replicas._read_alias.reset(token)
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "records")
    assert not router.allow_migrate("replica_1", "records")


# -- the proof on real servers -------------------------------------------------------------------


def _unavailable(reason: str):
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: the replica proof must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_basebackup")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    _unavailable("PostgreSQL's server programs (initdb, pg_basebackup) are not installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """One PostgreSQL cluster in a folder of its own, run as the server's user when we are root."""

    def __init__(self, bin_dir: Path, folder: Path, name: str):
        self.bin_dir, self.data, self.port = bin_dir, folder / name, _free_port()
        self.socket_dir, self.log = folder, folder / f"{name}.log"

    def run(self, program: str, *args: str) -> str:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise AssertionError(f"{program} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = DATABASE, application: str = "") -> str:
        query = f"?application_name={application}" if application else ""
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}{query}"

    def query(self, sql: str, *params, database: str = DATABASE):
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def _wait_for(condition, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _app_env(**extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE")}
    env.update(
        SECRET_KEY="replica-proof-key-not-for-production",
        HTTPS_ONLY="0",
        LOG_FORMAT="text",
        WEB_CONCURRENCY="2",
        # A replica left out is tried again a second later, so each test starts from a
        # working replica whatever ran before it.
        REPLICA_RETRY_SECONDS="1",
        **extra,
    )
    return env


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def replicated_app():
    """A primary with the seeds, a streaming replica of it, and gunicorn in front of both."""
    bin_dir = _server_bin()
    folder = Path(tempfile.mkdtemp(prefix="strata-replicas-"))
    folder.chmod(0o777)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    primary, replica = Cluster(bin_dir, folder, "primary"), Cluster(bin_dir, folder, "replica")
    server = None
    try:
        # initdb's pg_hba.conf lets loopback replication in with --auth=trust.
        primary.run(
            "initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        primary.start()
        primary.query(f"CREATE DATABASE {DATABASE}", database="postgres")
        owner = _app_env(DATABASE_URL=primary.url())
        _manage(owner, "migrate", "--no-input", "-v0")
        passwords = dict(
            re.findall(r"(\w+)\s+\(\w+\) password: (\S+)", _manage(owner, "create_demo_accounts"))
        )
        _manage(owner, "load_seeds")

        replica.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(replica.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",  # a spread checkpoint would keep the backup waiting for minutes
        )
        replica.start()
        assert replica.query("SELECT pg_is_in_recovery()") == [(True,)]

        port = _free_port()
        env = _app_env(
            DATABASE_URL=primary.url(application="strata-primary"),
            DATABASE_REPLICA_URLS=replica.url(application="strata-replica"),
        )
        log = open(folder / "gunicorn.log", "w")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                # The production configuration (two workers), on a loopback port.
                "--config",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "archive.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _status(f"{base}/readyz") == 200, "gunicorn to be ready")
        yield SimpleNamespace(
            primary=primary, replica=replica, base=base, passwords=passwords, folder=folder
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        for cluster in (replica, primary):
            if (cluster.data / "postmaster.pid").exists():
                cluster.run("pg_ctl", "-D", str(cluster.data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _get_json(url: str, opener=None, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
        assert response.status == 200
        return json.load(response)


def _positions(page: dict) -> list[int]:
    return [change["position"] for change in page["results"]]


def _staff_session(base: str, username: str, password: str):
    """An opener logged in to the admin, carrying the session and CSRF cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(path: str, fields: dict):
        opener.open(f"{base}{path}", timeout=30).read()  # sets the CSRF cookie
        token = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        with opener.open(f"{base}{path}", data=body, timeout=30) as response:
            return response.status, response.geturl()

    status, landed = post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    assert status == 200 and not landed.endswith("/login/?next=/admin/"), "admin login failed"
    return opener, post


def _last_position(cluster: Cluster) -> int:
    return cluster.query("SELECT max(position) FROM records_event")[0][0]


def _caught_up(primary: Cluster, replica: Cluster) -> bool:
    return _last_position(replica) == _last_position(primary)


def _projection_queries(cluster: Cluster, application: str) -> list[str]:
    """The last statement of each of the app's connections that read Strata's tables."""
    rows = cluster.query(
        "SELECT query FROM pg_stat_activity WHERE application_name = %s", application
    )
    return [query for (query,) in rows if "records_" in query]


@pytest.mark.postgres
def test_public_reads_reach_the_replica_writes_the_primary_and_staff_read_their_writes(
    replicated_app,
):
    app = replicated_app
    primary, replica = app.primary, app.replica
    _wait_for(lambda: _caught_up(primary, replica), "the replica to catch up")
    # A clean slate whatever ran before: past the workers' retry delay for a replica left out,
    # and the app's connections to the primary closed (its pool opens fresh ones), so that
    # their last statements tell what this test's requests did.
    time.sleep(1.5)
    primary.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        "strata-primary",
    )
    seeded = _last_position(primary)
    feed = f"{app.base}/api/v1/changes/?after={seeded}"
    assert _get_json(f"{app.base}/api/v1/facts/")["results"], "the seeds are published"
    assert _get_json(f"{app.base}/api/v1/changes/?limit=5")["next"], "the feed has pages"

    # The public reads ran on the replica, and nothing has read Strata's tables on the primary.
    assert _projection_queries(replica, "strata-replica"), "public reads ran on the replica"
    assert not _projection_queries(primary, "strata-primary"), "and none on the primary"

    # Freeze the replica: from now on the two databases differ until replay resumes.
    replica.query("SELECT pg_wal_replay_pause()")

    # A write through the admin: an archivist registers a source.
    opener, post = _staff_session(app.base, "archivist", app.passwords["archivist"])
    status, landed = post(
        "/admin/records/source/add/",
        {
            "title": "Diary of a missionary in Nanchang",
            "published": "1943",
            "licence": "CC BY 4.0",
            "full_text": "The missionary counted 12,000 dead in the city alone.",
            "event_id": str(uuid.uuid4()),
        },
    )
    assert status == 200 and not landed.endswith("/add/"), f"the form was refused: {landed}"
    written = _last_position(primary)
    assert written > seeded, "the write reached the primary"
    assert _last_position(replica) == seeded, "the paused replica has not seen it"

    # The public reads the replica: the new event is not in the feed yet ...
    for _ in range(4):  # both workers, most likely
        assert _positions(_get_json(feed)) == []
    # A made-up session cookie does not move a public read to the primary: only the admin's
    # signed staff cookie does.
    assert _positions(_get_json(feed, headers={"Cookie": "sessionid=made-up"})) == []

    # ... while the staff user who wrote it reads the primary, and sees their own write.
    assert _positions(_get_json(feed, opener))[-1] == written

    # Replay resumes: the public sees the write once the replica has it.
    replica.query("SELECT pg_wal_replay_resume()")
    _wait_for(lambda: _caught_up(primary, replica), "the replica to catch up again")
    assert _positions(_get_json(feed))[-1] == written


@pytest.mark.postgres
def test_public_reads_keep_answering_from_the_primary_when_the_replica_stops(replicated_app):
    app = replicated_app
    _wait_for(lambda: _caught_up(app.primary, app.replica), "the replica to catch up")
    facts = _get_json(f"{app.base}/api/v1/facts/")
    app.replica.stop()
    try:
        # Each worker notices, leaves the replica out, and asks the primary: the only database
        # still running answers every request.
        for _ in range(6):
            assert _get_json(f"{app.base}/api/v1/facts/") == facts
        assert _status(f"{app.base}/readyz") == 200, "a stopped replica leaves the app ready"
    finally:
        app.replica.start()


# -- the staff cookie and a replica failing half-way, on both backends ----------------------------


def _with_staff_cookie(request, value: str = "1"):
    from django.http import HttpResponse

    response = HttpResponse()
    response.set_signed_cookie(replicas.STAFF_COOKIE, value, salt=replicas.STAFF_COOKIE_SALT)
    request.COOKIES[replicas.STAFF_COOKIE] = response.cookies[replicas.STAFF_COOKIE].value
    return request


def test_a_staff_browser_reads_the_primary_and_a_forged_cookie_does_not():
    staff = _with_staff_cookie(RequestFactory().get("/api/v1/facts/"))
    assert not replicas.reads_from_replica(staff)
    forged = RequestFactory().get("/api/v1/facts/")
    forged.COOKIES[replicas.STAFF_COOKIE] = "1:forged-signature"
    assert replicas.reads_from_replica(forged)


@pytest.mark.django_db
def test_the_admin_gives_a_staff_browser_its_cookie_and_takes_it_back_at_logout(client, archivist):
    client.force_login(archivist)
    response = client.get("/admin/")
    assert response.status_code == 200
    cookie = response.cookies[replicas.STAFF_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not replicas.reads_from_replica(RequestFactory().get("/api/v1/facts/", headers={
        "Cookie": f"{replicas.STAFF_COOKIE}={cookie.value}"}))  # fmt: skip

    response = client.post("/admin/logout/")
    assert response.cookies[replicas.STAFF_COOKIE].value == ""  # deleted


@pytest.mark.django_db
def test_a_public_read_is_never_given_the_staff_cookie(client, archivist):
    client.force_login(archivist)
    assert replicas.STAFF_COOKIE not in client.get("/api/v1/facts/").cookies


def test_a_replica_failing_during_a_request_is_left_out_and_the_primary_answers(monkeypatch):
    from django.db import OperationalError
    from django.http import HttpResponse

    answered_from = []

    def view(request):
        answered_from.append(replicas._read_alias.get())
        return HttpResponse("ok")

    class BrokenConnection:
        closed = False

        def close(self):
            self.closed = True

    broken = BrokenConnection()
    monkeypatch.setattr(replicas, "connections", {"replica_1": broken})
    middleware = replicas.ReplicaRoutingMiddleware(view)
    monkeypatch.setattr(replicas, "_left_out_until", {})
    token = replicas._read_alias.set("replica_1")
    try:
        response = middleware.process_exception(
            RequestFactory().get("/api/v1/facts/"), OperationalError("server closed the connection")
        )
    finally:
        replicas._read_alias.reset(token)
    assert response.content == b"ok"
    assert answered_from == [DEFAULT_DB_ALIAS]
    assert "replica_1" in replicas._left_out_until and broken.closed

    # An error on the primary, or one that is not the database's, is not retried.
    assert middleware.process_exception(RequestFactory().get("/"), OperationalError()) is None
    token = replicas._read_alias.set("replica_1")
    try:
        assert middleware.process_exception(RequestFactory().get("/"), ValueError()) is None
    finally:
        replicas._read_alias.reset(token)

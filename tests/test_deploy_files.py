"""Static checks of deploy/: the image, compose, nginx and Kubernetes files agree with the app.

Fast and without Docker: they parse the files, resolve the paths they probe against the URL
configuration, and compare the environment variables they set with those that the settings and
gunicorn's configuration read. hadolint, shellcheck and nginx run when they are installed; the
tests that need them skip otherwise.
"""

from __future__ import annotations

import ast
import datetime
import io
import json
import logging
import os
import re
import runpy
import shlex
import shutil
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
K8S = DEPLOY / "k8s"
SHELL_SCRIPTS = sorted(DEPLOY.rglob("*.sh"))

COMPOSE_SERVICES = {"db-primary", "db-replica", "migrate", "app", "nginx"}
# Read by the settings for the test suite's own database only; never set in a deployment.
TEST_ONLY_VARIABLES = {"TEST_DATABASE_NAME"}
# Compose's own variables: passwords for the database containers and the image's name. The app's
# containers must never receive the passwords of roles other than their own.
DATABASE_PASSWORDS = {"POSTGRES_PASSWORD", "REPLICATION_PASSWORD", "STRATA_OWNER_PASSWORD"}


# --- helpers --------------------------------------------------------------------------------


def assert_resolves(path: str) -> None:
    try:
        resolve(path)
    except Resolver404:
        pytest.fail(f"{path} is not a URL of the Django project")


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), by stage; the
    instructions before the first FROM (global ARGs) form stage 0."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    stages: list[list[tuple[str, str]]] = [[]]
    for instruction in logical:
        keyword, _, arguments = instruction.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def instructions(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for name, arguments in stage if name == keyword]


def exec_form(arguments: str) -> list[str]:
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def service_environment(service: dict) -> dict[str, str | None]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(
            (item.split("=", 1) + [None])[:2] if "=" in item else (item, None)
            for item in environment
        )
    return environment


def app_services(document: dict) -> dict[str, dict]:
    """The compose services that run the application image."""
    return {
        name: service
        for name, service in document["services"].items()
        if "build" in service or str(service.get("image", "")).startswith("${STRATA_IMAGE")
    }


def env_names_read_by(path: Path) -> set[str]:
    """Environment variables a Python file reads: os.environ[...], os.environ.get, os.getenv,
    and any helper whose name mentions env (_env_flag, _env_list), called with a literal."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            reads_env = ast.unparse(func) in {"os.environ.get", "os.getenv"} or (
                "env" in name.lower()
            )
            if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return {name for name in names if re.fullmatch(r"[A-Z][A-Z0-9_]*", name)}


def app_variables() -> set[str]:
    """What the app reads: the settings, and gunicorn's configuration."""
    return env_names_read_by(ROOT / "archive" / "settings.py") | env_names_read_by(GUNICORN_CONF)


def env_example_names() -> set[str]:
    """Names in .env.example, set or shown commented out with their default."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
    lines = ENV_EXAMPLE.read_text().splitlines()
    return {match.group(1) for line in lines if (match := pattern.match(line))}


def k8s_documents() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        path = K8S / resource
        assert path.is_file(), f"kustomization.yaml lists {resource}, which does not exist"
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def k8s(kind: str) -> list[dict]:
    return [doc for doc in k8s_documents() if doc["kind"] == kind]


def the(kind: str) -> dict:
    (document,) = k8s(kind)
    return document


def pod_containers(document: dict) -> list[dict]:
    return document["spec"]["template"]["spec"]["containers"]


def strip_nginx_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def nginx_block(text: str, header: str) -> str:
    """The body of the first block whose header (e.g. `location /admin/`) matches."""
    match = re.search(re.escape(header) + r"\s*\{", text)
    assert match, f"nginx.conf has no `{header}` block"
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    pytest.fail(f"`{header}` block is not closed")


def nginx_text() -> str:
    return strip_nginx_comments(NGINX_CONF.read_text())


def gunicorn_conf(**environ: str) -> dict:
    saved = {name: os.environ.get(name) for name in ("PORT", "WEB_CONCURRENCY", "LOG_FORMAT")}
    try:
        for name in saved:
            os.environ.pop(name, None)
        os.environ.update(environ)
        return runpy.run_path(str(GUNICORN_CONF))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def image_uid() -> int:
    (user,) = instructions(final_stage(), "USER")[-1:]
    return int(user.split(":")[0])


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_builds_wheels_in_a_stage_of_their_own():
    stages = dockerfile_stages()[1:]
    assert len(stages) >= 2
    froms = [instructions(stage, "FROM")[0] for stage in stages]
    global_args = dict(
        arg.split("=", 1) for arg in instructions(dockerfile_stages()[0], "ARG") if "=" in arg
    )
    for line in froms:
        image = line.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], image)
        assert image == "python:3.11-slim", line
    assert "pip wheel" in " ".join(instructions(stages[0], "RUN"))
    assert "pip install --no-index" in " ".join(instructions(stages[-1], "RUN"))


def test_image_runs_as_a_fixed_non_root_uid():
    users = instructions(final_stage(), "USER")
    assert users, "the final stage sets no USER: the app would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # Numeric, so that Kubernetes' runAsNonRoot can check it.
    assert user.isdigit() and int(user) > 0


def test_image_serves_gunicorn_with_the_deploy_configuration():
    (command,) = instructions(final_stage(), "CMD")[-1:]
    assert exec_form(command) == ["gunicorn", "-c", "deploy/gunicorn.conf.py", "archive.wsgi"]
    copied = " ".join(instructions(final_stage(), "COPY"))
    assert "deploy/gunicorn.conf.py" in copied
    assert "8000" in instructions(final_stage(), "EXPOSE")


def test_every_copy_source_exists_and_is_in_the_build_context():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for stage in dockerfile_stages()[1:]:
        for arguments in instructions(stage, "COPY"):
            parts = [part for part in shlex.split(arguments) if not part.startswith("--")]
            if "--from=" in arguments:
                continue
            for source in parts[:-1]:
                assert list(ROOT.glob(source)), f"COPY {source}: not in the repository"
                assert not any(Path(source).match(pattern) for pattern in ignored), (
                    f"COPY {source}: excluded by .dockerignore"
                )


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_context():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "staticfiles", "deploy/.env"} <= ignored
    assert any("sqlite3" in pattern for pattern in ignored)


def test_static_files_are_collected_with_a_throwaway_key():
    runs = instructions(final_stage(), "RUN")
    collect = [run for run in runs if "collectstatic" in run]
    assert collect and "SECRET_KEY=" in collect[0]
    # The throwaway key lives in that RUN only: never in the image's environment.
    assert not any("SECRET_KEY" in env for env in instructions(final_stage(), "ENV"))
    assert not any(
        "SECRET_KEY" in arg for stage in dockerfile_stages() for arg in instructions(stage, "ARG")
    )


def test_healthcheck_probes_a_url_of_the_app():
    (healthcheck,) = instructions(final_stage(), "HEALTHCHECK")
    command = healthcheck.split("CMD", 1)[1].strip()
    arguments = exec_form(command)
    assert arguments[:2] == ["python", "deploy/healthcheck.py"]
    (path,) = [argument for argument in arguments if argument.startswith("/")]
    assert path == "/healthz"
    assert_resolves(path)
    assert "deploy/healthcheck.py" in " ".join(instructions(final_stage(), "COPY"))


def test_healthcheck_script_sends_a_host_that_allowed_hosts_admits(monkeypatch):
    probe = runpy.run_path(str(DEPLOY / "healthcheck.py"))
    for allowed, expected in [
        ("", "localhost"),
        ("archive.example.org,localhost", "localhost"),
        ("archive.example.org", "archive.example.org"),
        (".example.org", "example.org"),
    ]:
        monkeypatch.setenv("ALLOWED_HOSTS", allowed)
        assert probe["probe_host"]() == expected


@pytest.mark.skipif(not shutil.which("hadolint"), reason="hadolint is not installed")
def test_hadolint():
    result = subprocess.run(
        ["hadolint", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- gunicorn -------------------------------------------------------------------------------


def test_gunicorn_configuration_loads_with_its_defaults():
    conf = gunicorn_conf()
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["workers"] == 2
    assert conf["worker_class"] == "sync"
    assert conf["max_requests"] > 0 and conf["max_requests_jitter"] > 0
    assert conf["graceful_timeout"] > 0
    assert conf["forwarded_allow_ips"]
    handlers = conf["logconfig_dict"]["handlers"]
    assert handlers["access"]["stream"] == "ext://sys.stdout"
    assert handlers["error"]["stream"] == "ext://sys.stderr"


def test_gunicorn_configuration_reads_the_environment():
    conf = gunicorn_conf(PORT="9000", WEB_CONCURRENCY="5")
    assert conf["bind"] == "0.0.0.0:9000"
    assert conf["workers"] == 5


def test_gunicorn_access_log_is_one_json_object_per_request():
    from gunicorn.config import Config

    conf = gunicorn_conf()
    formatter_config = dict(conf["logconfig_dict"]["formatters"]["strata"])
    formatter_class = formatter_config.pop("()")
    module, _, name = formatter_class.rpartition(".")
    formatter = getattr(__import__(module, fromlist=[name]), name)(**formatter_config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    access_log = logging.getLogger("tests.deploy.access")
    access_log.propagate = False
    access_log.setLevel(logging.INFO)
    access_log.addHandler(handler)
    try:
        # The logger's own methods, without its setup (which would reconfigure logging here).
        logger = conf["AccessLogger"].__new__(conf["AccessLogger"])
        logger.cfg, logger.access_log, logger.error_log = Config(), access_log, access_log
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/facts/",
            "QUERY_STRING": "disputed=true",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.0.0.9",
            "HTTP_USER_AGENT": 'agent "with quotes"',
        }
        response = SimpleNamespace(status="200 OK", sent=42)
        elapsed = datetime.timedelta(milliseconds=12)
        logger.access(response, None, environ, elapsed)
        # The orchestrator's probes are logged only when they fail.
        probe = dict(environ, PATH_INFO="/healthz", QUERY_STRING="")
        logger.access(response, None, probe, elapsed)
        logger.access(
            SimpleNamespace(status="503 Service Unavailable", sent=9),
            None,
            dict(probe, PATH_INFO="/readyz"),
            elapsed,
        )
    finally:
        access_log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["http"]["path"] for line in lines] == ["/api/v1/facts/", "/readyz"]
    first = lines[0]
    assert first["level"] == "INFO" and "time" in first
    assert first["http"]["status"] == 200
    assert first["http"]["user_agent"] == 'agent "with quotes"'
    assert first["http"]["query"] == "disputed=true"


# --- compose --------------------------------------------------------------------------------


def test_compose_has_the_services():
    services = compose()["services"]
    assert set(services) >= COMPOSE_SERVICES
    assert services["db-primary"]["image"] == "postgres:15"
    assert services["db-replica"]["image"] == "postgres:15"
    assert services["nginx"]["image"].startswith("nginx:1.27")
    assert set(app_services(compose())) >= {"migrate", "app"}


def bind_mounts(service: dict) -> list[tuple[Path, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts.append(((DEPLOY / source).resolve(), target))
    return mounts


def test_compose_bind_mounts_exist():
    for name, service in compose()["services"].items():
        for source, target in bind_mounts(service):
            if target == "/etc/nginx/certs":
                continue  # the operator's certificate; git-ignored (checked below)
            assert source.exists(), f"{name}: {source} does not exist"


def test_secrets_stay_out_of_git():
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignored and "nginx/certs/" in ignored


def test_primary_is_set_up_for_streaming_replicas():
    primary = compose()["services"]["db-primary"]
    assert "wal_level=replica" in primary["command"]
    mounts = dict((target, source) for source, target in bind_mounts(primary))
    init = mounts["/docker-entrypoint-initdb.d/10-primary-init.sh"]
    script = init.read_text()
    assert "REPLICATION" in script and "host replication" in script
    # roles.sql takes psql variables: it must not sit where the image runs .sql files itself.
    roles = [target for target, source in mounts.items() if source.name == "roles.sql"]
    assert roles and not roles[0].startswith("/docker-entrypoint-initdb.d")
    assert roles[0] in script or "ROLES_SQL" in script
    assert "pg_isready" in primary["healthcheck"]["test"]


def test_replica_clones_the_primary_with_pg_basebackup():
    services = compose()["services"]
    replica = services["db-replica"]
    (entrypoint,) = replica["entrypoint"]
    mounts = {target: source for source, target in bind_mounts(replica)}
    script = mounts[entrypoint]
    text = script.read_text()
    assert "pg_basebackup" in text
    assert re.search(r"pg_basebackup[^\n]*(\\\n[^\n]*)*-R\b", text)
    assert re.search(r"-X stream", text)
    assert 'exec "$@"' in text
    assert replica["depends_on"]["db-primary"]["condition"] == "service_healthy"
    assert replica["environment"]["PRIMARY_HOST"] == "db-primary"


def test_shell_scripts_are_executable_and_parse():
    assert SHELL_SCRIPTS
    for script in SHELL_SCRIPTS:
        mode = script.stat().st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, f"{script} is not executable"
        assert script.read_text().startswith("#!/usr/bin/env bash\n")
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_shellcheck():
    if not shutil.which("shellcheck"):
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail("shellcheck is not installed (CI=true: .ci/run installs it)")
        pytest.skip("shellcheck is not installed")
    result = subprocess.run(
        ["shellcheck", *map(str, SHELL_SCRIPTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def one_off_command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_migrate_runs_as_the_owner_then_grants_the_app_role():
    services = compose()["services"]
    migrate = services["migrate"]
    command = one_off_command(migrate)
    assert re.search(
        r"manage\.py migrate\b.*&&.*manage\.py grant_app_privileges --role strata_app", command
    )
    assert migrate["restart"] == "no"
    assert "strata_owner:" in service_environment(migrate)["DATABASE_URL"]
    assert {"migrate", "grant_app_privileges"} <= set(get_commands())


def test_app_starts_after_migrate_succeeds_and_reads_the_replica():
    services = compose()["services"]
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    environment = service_environment(app)
    assert "strata_app:" in environment["DATABASE_URL"]
    assert "@db-primary:" in environment["DATABASE_URL"]
    assert "@db-replica:" in environment["DATABASE_REPLICA_URLS"]
    test = app["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "deploy/healthcheck.py"]
    assert test[3] == "/readyz"
    assert_resolves(test[3])
    nginx = services["nginx"]
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"


def test_app_containers_hold_only_their_own_database_password():
    for name, service in app_services(compose()).items():
        text = json.dumps(service_environment(service))
        forbidden = DATABASE_PASSWORDS - ({"STRATA_OWNER_PASSWORD"} if name == "migrate" else set())
        for password in forbidden:
            assert password not in text, f"{name} receives {password}"


def test_nginx_serves_the_static_files_the_image_collected():
    services = compose()["services"]
    static_mount = next(
        volume.split(":")[1]
        for volume in services["nginx"]["volumes"]
        if volume.startswith("static:")
    )
    location = nginx_block(nginx_text(), "location /static/")
    assert re.search(rf"alias\s+{re.escape(static_mount.rstrip('/'))}/;", location)
    copier = one_off_command(services["static"])
    assert "/app/staticfiles/" in copier and static_mount in copier
    assert str(settings.STATIC_ROOT).endswith("/staticfiles")
    assert settings.STATIC_URL.strip("/") == "static"


# --- environment variables ------------------------------------------------------------------


def test_the_extractor_finds_what_the_settings_read():
    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "WEB_CONCURRENCY"} <= app_variables()


def test_every_variable_the_app_reads_is_in_env_example():
    missing = app_variables() - TEST_ONLY_VARIABLES - env_example_names()
    assert not missing, f"read by the app but not in deploy/.env.example: {sorted(missing)}"


def test_every_variable_in_env_example_is_read_by_the_app_or_compose():
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    unknown = env_example_names() - app_variables() - interpolated
    assert not unknown, f"in deploy/.env.example but read by nothing: {sorted(unknown)}"


def test_every_compose_interpolation_is_in_env_example():
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    missing = interpolated - env_example_names()
    assert not missing, f"compose.yaml uses, deploy/.env.example lacks: {sorted(missing)}"


def test_compose_gives_the_app_only_variables_it_reads():
    for name, service in app_services(compose()).items():
        unknown = set(service_environment(service)) - app_variables()
        assert not unknown, f"compose service {name} sets {sorted(unknown)}: read by nothing"


def test_kubernetes_sets_only_variables_the_app_reads():
    names = set(the("ConfigMap")["data"])
    for secret in k8s("Secret"):
        names |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
    for document in k8s("Deployment") + k8s("Job"):
        for container in pod_containers(document):
            names |= {item["name"] for item in container.get("env", [])}
    unknown = names - app_variables()
    assert not unknown, f"deploy/k8s sets {sorted(unknown)}, which the app does not read"


# --- nginx ----------------------------------------------------------------------------------


def test_nginx_never_caches_the_admin():
    admin = nginx_block(nginx_text(), "location /admin/")
    assert re.search(r"proxy_cache\s+off;", admin)
    assert "proxy_pass http://strata_app;" in admin


def test_nginx_caches_public_api_reads_but_not_private_ones():
    text = nginx_text()
    api = nginx_block(text, "location /api/")
    assert re.search(r"proxy_cache\s+strata_api;", api)
    assert re.search(r"proxy_cache_methods\s+GET HEAD;", api)
    assert "X-Cache-Status $upstream_cache_status" in api
    # No proxy_cache_valid: how long a response is kept is the app's Cache-Control.
    assert "proxy_cache_valid" not in text
    bypass = re.search(r"proxy_cache_bypass\s+\$(\w+);", api).group(1)
    assert re.search(rf"proxy_no_cache\s+\${bypass};", api)
    # That variable is 0 only when the request has neither Django's session cookie nor an
    # Authorization header.
    header = re.search(rf'map\s+"\$(\w+):\$http_authorization"\s+\${bypass}(?=\s*\{{)', text)
    assert header, f"no map sets ${bypass} from the session and the Authorization header"
    private_map = nginx_block(text, header.group(0))
    assert re.search(r'"0:"\s+0;', private_map) and re.search(r"default\s+1;", private_map)
    session_map = nginx_block(text, f"map $http_cookie ${header.group(1)}")
    assert f"{settings.SESSION_COOKIE_NAME}=" in session_map
    assert re.search(r"default\s+0;", session_map)


def test_nginx_tells_the_app_about_the_original_request():
    text = nginx_text()
    for header in ("Host $host", "X-Forwarded-Proto $scheme", "X-Forwarded-For"):
        assert f"proxy_set_header {header}" in text
    upstream = nginx_block(text, "upstream strata_app")
    port = gunicorn_conf()["bind"].rsplit(":", 1)[1]
    assert re.search(rf"server\s+app:{port}\b", upstream)
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def nginx_version(nginx: str) -> tuple[int, ...]:
    output = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
    return tuple(int(part) for part in re.search(r"nginx/([\d.]+)", output).group(1).split("."))


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")
def test_nginx_accepts_the_configuration(tmp_path):
    nginx = shutil.which("nginx")
    if nginx_version(nginx) < (1, 27, 3):
        pytest.skip("the configuration needs nginx 1.27.3 or later (upstream `resolve`)")
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: no certificate to test with")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(tmp_path / "privkey.pem"),
            "-out",
            str(tmp_path / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (tmp_path / "cache").mkdir()
    conf = (
        NGINX_CONF.read_text()
        .replace("/etc/nginx/certs/", f"{tmp_path}/")
        .replace("/var/run/nginx.pid", f"{tmp_path}/nginx.pid")
        .replace("/var/cache/nginx/", f"{tmp_path}/cache/")
        .replace("user nginx;", "")
    )
    (tmp_path / "nginx.conf").write_text(conf)
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Kubernetes -----------------------------------------------------------------------------


def test_kubernetes_manifests_parse_and_have_every_kind():
    kinds = {document["kind"] for document in k8s_documents()}
    assert {
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "Job",
        "HorizontalPodAutoscaler",
    } <= kinds
    for document in k8s_documents():
        assert document["apiVersion"] and document["metadata"]["name"]


def test_secret_is_marked_as_an_example():
    text = (K8S / "secret.example.yaml").read_text()
    assert "EXAMPLE" in text.upper().split("APIVERSION")[0]
    assert all(
        "REPLACE-ME" in value or value == ""
        for secret in k8s("Secret")
        for value in secret["stringData"].values()
    )


def test_deployment_probes_reach_the_health_endpoints_over_plain_http():
    deployment = the("Deployment")
    (container,) = pod_containers(deployment)
    allowed_hosts = the("ConfigMap")["data"]["ALLOWED_HOSTS"].split(",")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    probes = {"livenessProbe": "/healthz", "startupProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in probes.items():
        http_get = container[probe]["httpGet"]
        assert http_get["path"] == path
        assert_resolves(path)
        assert http_get.get("scheme", "HTTP") == "HTTP"
        assert ports[http_get["port"]] == 8000
        # Django answers 400 to a Host that ALLOWED_HOSTS does not admit: the probes' must be.
        hosts = [h["value"] for h in http_get.get("httpHeaders", []) if h["name"] == "Host"]
        assert hosts and hosts[0] in allowed_hosts, f"{probe}: Host not in ALLOWED_HOSTS"
    for path in ("healthz", "readyz"):
        assert any(re.fullmatch(pattern, path) for pattern in settings.SECURE_REDIRECT_EXEMPT)


def assert_hardened(document: dict) -> None:
    pod = document["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == image_uid()
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]]
        assert container["resources"]["requests"] and container["resources"]["limits"]


def test_deployment_runs_hardened_and_configured():
    deployment = the("Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert_hardened(deployment)
    (container,) = pod_containers(deployment)
    sources = {(kind, ref["name"]) for item in container["envFrom"] for kind, ref in item.items()}
    assert ("configMapRef", the("ConfigMap")["metadata"]["name"]) in sources
    secret_names = {secret["metadata"]["name"] for secret in k8s("Secret")}
    assert any(kind == "secretRef" and name in secret_names for kind, name in sources)
    assert container["ports"][0]["containerPort"] == 8000


def test_service_routes_port_80_to_the_app():
    service, deployment = the("Service"), the("Deployment")
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    (container,) = pod_containers(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports.get(port["targetPort"], port["targetPort"]) == 8000
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_autoscaler_targets_the_deployment():
    hpa, deployment = the("HorizontalPodAutoscaler"), the("Deployment")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment"
    assert target["name"] == deployment["metadata"]["name"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == 70


def test_migrate_job_migrates_and_grants_as_the_owner():
    job, deployment = the("Job"), the("Deployment")
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert_hardened(job)
    (container,) = pod_containers(job)
    command = " ".join(container["command"] + container.get("args", []))
    assert re.search(
        r"manage\.py migrate\b.*&&.*manage\.py grant_app_privileges --role strata_app", command
    )
    env = {item["name"]: item for item in container["env"]}
    owner_secret = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
    (app_container,) = pod_containers(deployment)
    app_secrets = {
        item["secretRef"]["name"] for item in app_container["envFrom"] if "secretRef" in item
    }
    # The owner's URL comes from a Secret of its own, which the app's pods never load.
    assert owner_secret not in app_secrets
    assert owner_secret in {secret["metadata"]["name"] for secret in k8s("Secret")}

"""deploy/ (issue 15, item 6): the systemd units run commands the bot has, restart on failure
and are hardened; nginx passes only the secret webhook paths (POST) to the workers' upstream,
/healthz and /metrics only to localhost and the monitoring network, 404 for everything else,
over TLS with a body limit and timeouts. Checked by parsing the files; `systemd-analyze verify`
and `nginx -t` run on them too where those tools are installed (skipped otherwise)."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
POLLING = DEPLOY / "systemd" / "jihad-bot.service"
WEBHOOK = DEPLOY / "systemd" / "jihad-webhook@.service"
NGINX = DEPLOY / "nginx" / "jihad-bot.conf"
ENV_EXAMPLE = DEPLOY / "jihad-bot.env.example"
PYTHON = "/opt/jihad-bot/.venv/bin/python"
SECRET = "3f9a" * 16  # what `openssl rand -hex 32` gives
WORKERS = ("81", "82", "83")  # jihad-webhook@81 … listen on 8081 …


# --- systemd ------------------------------------------------------------------------------------


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: sections of keys, each with every value given."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}:{number}: not KEY=value: {raw!r}"
        assert key == key.strip() and re.fullmatch(r"[A-Za-z]+", key), f"{path.name}:{number}"
        current.setdefault(key, []).append(value)
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key)
    assert values, f"{key}= is missing"
    return values[-1]


@pytest.fixture(scope="module")
def bot_commands() -> set[str]:
    """The commands `python -m bot --help` offers."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["--help"])
    found = re.search(r"\{([a-z,-]+)\}", out.getvalue())
    assert found, out.getvalue()
    return set(found[1].split(","))


@pytest.mark.parametrize("path", [POLLING, WEBHOOK], ids=["polling", "webhook"])
def test_units_are_complete_restart_and_are_hardened(path: Path) -> None:
    sections = unit(path)
    assert set(sections) == {"Unit", "Service", "Install"}
    service = sections["Service"]
    assert one(sections["Unit"], "Description")
    assert "network-online.target" in one(sections["Unit"], "After")
    assert one(sections["Install"], "WantedBy") == "multi-user.target"
    assert one(service, "Restart") in ("on-failure", "always")
    assert one(service, "RestartPreventExitStatus") == "2", "a wrong setting is not retried"
    assert one(service, "User") not in ("", "root") and one(service, "Group")
    assert one(service, "EnvironmentFile") == "/etc/jihad-bot/jihad-bot.env"
    assert one(service, "WorkingDirectory") == "/opt/jihad-bot"
    assert one(service, "KillSignal") == "SIGTERM", "the bot stops gracefully on SIGTERM"
    hardening = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }
    assert {key: one(service, key) for key in hardening} == hardening
    assert set(one(service, "RestrictAddressFamilies").split()) == {
        "AF_INET", "AF_INET6", "AF_UNIX"
    }  # fmt: skip
    assert "@system-service" in service["SystemCallFilter"]
    # with ProtectSystem=strict the SQLite file can live only in the state folder
    assert one(service, "StateDirectory") == "jihad-bot"


def test_the_polling_unit_runs_the_bot(bot_commands: set[str]) -> None:
    exec_start = one(unit(POLLING)["Service"], "ExecStart").split()
    assert exec_start == [PYTHON, "-m", "bot", "run"]
    assert "run" in bot_commands


def test_the_webhook_unit_runs_one_worker_per_port(bot_commands: set[str]) -> None:
    exec_start = one(unit(WEBHOOK)["Service"], "ExecStart")
    assert exec_start == f"{PYTHON} -m bot webhook --host 127.0.0.1 --port 80%i"
    ports = {f"127.0.0.1:80{n}" for n in WORKERS}
    assert ports == set(upstream_servers(nginx_tree())), "nginx's upstream is these workers"
    assert {"webhook", "set-webhook"} <= bot_commands


def test_the_environment_example_names_real_settings_and_holds_no_secret() -> None:
    text = ENV_EXAMPLE.read_text()
    assert "-m 0640" in text and "-o root -g jihad" in text, "the permissions note"
    known = {name.upper() for name in Settings.model_fields}
    lines = [re.match(r"(#?)([A-Z_]+)=(.*)", line) for line in text.splitlines()]
    named = {m[2] for m in lines if m}  # set, or shown commented out
    assert named <= known, named - known
    given = {m[2]: m[3] for m in lines if m and not m[1]}
    assert given["TELEGRAM_BOT_TOKEN"] == given["BALE_BOT_TOKEN"] == ""
    assert given["DATABASE_URL"].startswith("sqlite+aiosqlite:////var/lib/jihad-bot/")
    assert not re.search(r"\d{6,}:[A-Za-z0-9_-]{20,}", text), "no token"
    for url in re.findall(r"postgresql://\S+", text):
        assert "CHANGE-ME" in url, "no real password"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_finds_nothing_to_say(tmp_path: Path) -> None:
    names = {POLLING: "jihad-bot.service", WEBHOOK: "jihad-webhook@81.service"}
    for source, name in names.items():
        # the interpreter must exist for verify: this one stands in for the venv's
        (tmp_path / name).write_text(source.read_text().replace(PYTHON, sys.executable))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names.values()],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr.strip()) == (0, ""), done.stderr


# --- nginx --------------------------------------------------------------------------------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def get(self, name: str) -> list[str]:
        found = self.all(name)
        assert found, f"{self.name} {' '.join(self.args)}: no {name}"
        return found[-1].args


_TOKEN = re.compile(
    r"""\s+|\#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)"""
)


def parse_nginx(text: str) -> list[Directive]:
    """nginx's configuration grammar: words and quoted strings, `;` ends a directive, `{ }`
    a block; unbalanced braces or a directive left open fail."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match, f"cannot read the configuration at {text[pos : pos + 40]!r}"
        pos = match.end()
        double, single, punct, word = match.groups()
        if double is not None or single is not None:
            words.append(double if double is not None else single)
        elif word is not None:
            words.append(word)
        elif punct == ";":
            assert words, "an empty directive"
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif punct == "{":
            assert words, "a block without a name"
            directive = Directive(words[0], words[1:], [])
            stack[-1].append(directive)
            stack.append(directive.block)  # type: ignore[arg-type]
            words = []
        elif punct == "}":
            assert not words, f"directive {words} not ended by ;"
            assert len(stack) > 1, "a } without its {"
            stack.pop()
    assert not words and len(stack) == 1, "a block or a directive is left open"
    return stack[0]


def nginx_tree() -> Directive:
    return Directive("http", [], parse_nginx(NGINX.read_text()))


def upstream_servers(http: Directive) -> list[str]:
    (upstream,) = [d for d in http.all("upstream") if d.args == ["jihad_webhook"]]
    return [d.args[0] for d in upstream.all("server")]


def tls_server(http: Directive) -> Directive:
    (server,) = [s for s in http.all("server") if any("ssl" in d.args for d in s.all("listen"))]
    return server


def choose(server: Directive, path: str) -> Directive:
    """The location nginx picks for a path: an exact match, else the longest prefix unless a
    regex (in order) matches; `^~` prefixes skip the regexes."""
    locations = server.all("location")
    for loc in locations:
        if loc.args[0] == "=" and loc.args[1] == path:
            return loc
    prefixes = [loc for loc in locations if len(loc.args) == 1 or loc.args[0] == "^~"]
    matching = [loc for loc in prefixes if path.startswith(loc.args[-1])]
    longest = max(matching, key=lambda loc: len(loc.args[-1]), default=None)
    if longest is None or longest.args[0] != "^~":
        for loc in locations:
            if loc.args[0] in ("~", "~*"):
                flags = re.IGNORECASE if loc.args[0] == "~*" else 0
                if re.search(loc.args[1], path, flags):
                    return loc
    assert longest is not None, f"no location for {path}"
    return longest


def test_nginx_braces_balance_and_the_parser_knows_it() -> None:
    assert parse_nginx(NGINX.read_text())
    for broken in ("server { listen 80;", "server { listen 80; }}", "server { listen 80 }"):
        with pytest.raises(AssertionError):
            parse_nginx(broken)


def test_nginx_sends_only_the_secret_paths_to_the_workers() -> None:
    server = tls_server(nginx_tree())
    for platform in ("telegram", "bale"):
        webhook = choose(server, f"/webhook/{platform}/{SECRET}")
        assert webhook.get("proxy_pass") == ["http://jihad_webhook"]
        (only_post,) = webhook.all("limit_except")
        assert only_post.args == ["POST"] and only_post.get("deny") == ["all"]
    for path in (
        "/", "/index.html", "/admin", "/webhook", "/webhook/telegram/", "/webhook/telegram/short",
        f"/webhook/viber/{SECRET}", f"/webhook/telegram/{SECRET}/x", f"/webhook/bale/{SECRET}.",
        "/healthz/x", "/metrics.json", "/.well-known/acme-challenge/x",
    ):  # fmt: skip
        assert choose(server, path).get("return") == ["404"], path


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_health_and_metrics_answer_only_localhost_and_monitoring(path: str) -> None:
    location = choose(tls_server(nginx_tree()), path)
    rules = [(d.name, d.args[0]) for d in location.block or [] if d.name in ("allow", "deny")]
    assert rules[-1] == ("deny", "all") and ("allow", "127.0.0.1") in rules
    assert ("allow", "::1") in rules and ("allow", "all") not in rules
    assert location.get("proxy_pass") == ["http://jihad_webhook"]


def test_nginx_speaks_tls_limits_bodies_and_times_out() -> None:
    http = nginx_tree()
    server = tls_server(http)
    assert {a for d in server.all("listen") for a in d.args} >= {"443", "ssl"}
    assert server.get("ssl_certificate") and server.get("ssl_certificate_key")
    assert set(server.get("ssl_protocols")) <= {"TLSv1.2", "TLSv1.3"}
    assert server.get("client_max_body_size") == ["1m"]
    for timeout in ("client_body_timeout", "client_header_timeout", "proxy_connect_timeout",
                    "proxy_read_timeout", "proxy_send_timeout", "send_timeout"):  # fmt: skip
        (value,) = server.get(timeout)
        assert re.fullmatch(r"\d+s", value) and int(value[:-1]) <= 30, timeout
    assert server.get("server_tokens") == ["off"]
    # the plain-HTTP server serves the certificate's challenge and nothing else
    (plain,) = [s for s in http.all("server") if s is not server]
    assert choose(plain, "/webhook/telegram/" + SECRET).get("return") == ["404"]
    # no log line holds a secret: the access log's format never writes the path as requested
    (fmt,) = [d for d in http.all("log_format") if d.args[0] == "jihad_bot"]
    written = " ".join(fmt.args[1:])
    assert not re.search(r"\$(request|request_uri|uri|args|query_string)\b", written), written
    assert "$jihad_logged_path" in written
    for directive in server.all("access_log"):
        assert directive.args[-1] == "jihad_bot"


def _certificate(folder: Path) -> None:
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=bot.example.ir", "-keyout", str(folder / "privkey.pem"),
         "-out", str(folder / "fullchain.pem")],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip("openssl cannot make a test certificate")


def _nginx_in(folder: Path, site: str) -> Path:
    """The site under a main configuration that keeps everything in `folder` (no root needed):
    certificate, logs, pid, temporary files."""
    site = site.replace("/etc/letsencrypt/live/bot.example.ir/", f"{folder}/")
    (folder / "site.conf").write_text(site.replace("/var/log/nginx/", f"{folder}/"))
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        f"events {{}}\nhttp {{\n{temp}\n    include {folder}/site.conf;\n}}\n"
    )
    return folder / "nginx.conf"


NGINX_ARGS = ["-e", "{folder}/error.log", "-p", "{folder}/", "-c", "{folder}/nginx.conf"]


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    _certificate(tmp_path)
    _nginx_in(tmp_path, NGINX.read_text())
    done = subprocess.run(
        ["nginx", "-t", "-q", *(a.format(folder=tmp_path) for a in NGINX_ARGS)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

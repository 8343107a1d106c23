"""The local emulator: a real background moto server, stale state, and the in-process fallback."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
import uuid

import pytest

from infragen import local
from infragen.console import Console
from infragen.errors import UsageError
from infragen.target import Target, make_session


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / ".infragen"


def list_buckets(endpoint_url: str) -> list:
    clients = make_session(Target(kind="local", region="us-west-2", endpoint_url=endpoint_url))
    return clients.s3.list_buckets()["Buckets"]


def lambda_config(endpoint_url: str) -> dict:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{endpoint_url}/moto-api/config") as reply:
        return json.load(reply)["lambda"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# start() leaves its server running on purpose, so Popen warns when its handle goes away.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.usefixtures("moto_endpoint")  # dummy credentials and no ~/.aws for the emulator's clients
def test_start_status_stop_background_server(state_dir):
    server = local.start(state_dir)
    try:
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        record = json.loads((state_dir / "local.json").read_text())
        assert record == {"pid": server.pid, "port": server.port, "identity": server.identity}
        assert "moto.server" in server.identity and str(server.port) in server.identity
        assert local.status(state_dir) == local.Status("running", server)
        assert local.start(state_dir) == local.start(state_dir, server.port) == server  # already running
        with pytest.raises(UsageError, match=f"already runs on port {server.port}"):
            local.start(state_dir, server.port + 1)
        assert list_buckets(server.endpoint_url) == []
        assert lambda_config(server.endpoint_url) == {"use_docker": False}

        console = Console(out=io.StringIO(), err=io.StringIO())
        with local.local_endpoint(state_dir, console) as url:
            assert url == server.endpoint_url
        assert console.err.getvalue() == ""
    finally:
        stopped = local.stop(state_dir)
    assert stopped.state == "running"
    assert not local._alive(server.pid)
    assert not (state_dir / "local.json").exists()
    assert local.status(state_dir).state == "stopped"
    assert (state_dir / "local.log").exists()


def test_start_refuses_a_busy_port(state_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(UsageError, match="already in use"):
            local.start(state_dir, busy.getsockname()[1])
    assert not (state_dir / "local.json").exists()


@pytest.mark.parametrize("content", ["dead", "{not json"])
def test_stale_state_is_cleaned(state_dir, content):
    state_dir.mkdir()
    if content == "dead":
        content = json.dumps({"pid": dead_pid(), "port": local._free_port()})
    (state_dir / "local.json").write_text(content)
    assert local.status(state_dir).state == "stale"
    assert not (state_dir / "local.json").exists()
    assert local.status(state_dir).state == "stopped"
    assert local.stop(state_dir).state == "stopped"


@pytest.mark.usefixtures("moto_endpoint")
def test_in_process_fallback_says_so_and_stops(state_dir):
    console = Console(out=io.StringIO(), err=io.StringIO())
    with local.local_endpoint(state_dir, console) as url:
        assert url.startswith("http://127.0.0.1:")
        assert list_buckets(url) == []
        assert lambda_config(url) == {"use_docker": False}
    assert "started an in-process one" in console.err.getvalue()
    assert "infragen local start" in console.err.getvalue()
    assert not local._answers(int(url.rsplit(":", 1)[1]))


def test_missing_moto_says_how_to_install(state_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "moto.server", None)
    with pytest.raises(UsageError, match=r"pip install 'infragen\[local\]'"):
        with local.local_endpoint(state_dir, Console()):
            pass


@pytest.fixture
def spawned(monkeypatch) -> list:
    """The processes local.start() launches."""
    processes = []
    original = local._spawn

    def recording(state_dir, port):
        processes.append(original(state_dir, port))
        return processes[-1]

    monkeypatch.setattr(local, "_spawn", recording)
    return processes


def test_start_gives_up_after_its_bound(state_dir, monkeypatch, spawned):
    monkeypatch.setattr(local, "START_TIMEOUT", 0.3)
    monkeypatch.setattr(local, "_answers", lambda port: False)
    with pytest.raises(local.InfragenError, match="did not start") as caught:
        local.start(state_dir)
    assert str(state_dir / "local.log") in str(caught.value)
    assert not (state_dir / "local.json").exists()
    assert [p.poll() is not None for p in spawned] == [True]  # no server left behind


def test_a_server_that_cannot_be_configured_is_stopped(state_dir, monkeypatch, spawned):
    def refuse(port):
        raise local.InfragenError("refused")

    monkeypatch.setattr(local, "_configure", refuse)
    with pytest.raises(local.InfragenError, match="refused"):
        local.start(state_dir)
    assert not (state_dir / "local.json").exists()
    assert [p.poll() is not None for p in spawned] == [True]


def test_configuring_an_unreachable_emulator_is_an_infragen_error():
    with pytest.raises(local.InfragenError, match="refused its settings"):
        local._configure(local._free_port())


@pytest.fixture
def signals(monkeypatch) -> list:
    """Every real signal local.py would send (recorded, never delivered); probes (signal 0) pass through."""
    sent = []

    class RecordingOs:
        def __getattr__(self, name):
            return getattr(os, name)

        def kill(self, pid, sig):
            if sig == 0:
                return os.kill(pid, sig)
            sent.append((pid, sig))

    monkeypatch.setattr(local, "os", RecordingOs())
    return sent


@pytest.fixture
def bystander():
    """A live process that is not the emulator."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("whose", ["reused pid", "pid 1", "this process", "no identity"])
def test_stop_never_signals_a_process_that_is_not_the_emulator_it_started(
        state_dir, moto_server, signals, bystander, whose):
    port = int(moto_server.rsplit(":", 1)[1])  # a port that answers like the emulator
    pid = {"pid 1": 1, "this process": os.getpid()}.get(whose, bystander.pid)
    # reused pid: the emulator infragen started has gone, its pid now belongs to another process;
    # pid 1 and this process: a record claiming them, identity and all
    identity = (f"12345 {sys.executable} -m moto.server -H 127.0.0.1 -p {port}" if whose == "reused pid"
                else local._identity(pid))
    record = {"pid": pid, "port": port, "identity": identity}
    if whose == "no identity":
        del record["identity"]  # a record that cannot be verified
    state_dir.mkdir()
    (state_dir / "local.json").write_text(json.dumps(record))

    found = local.stop(state_dir)

    assert found.state == "stale" and signals == []
    assert bystander.poll() is None
    assert not (state_dir / "local.json").exists()


def test_cli_stop_says_a_stale_record_was_removed(tmp_path, bystander):
    from click.testing import CliRunner

    from infragen.cli import cli

    config = tmp_path / "infragen.toml"
    (tmp_path / ".infragen").mkdir()
    (tmp_path / ".infragen" / "local.json").write_text(json.dumps({"pid": bystander.pid, "port": 1, "identity": "x"}))

    result = CliRunner().invoke(cli, ["local", "stop", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert f"removed the stale record of pid {bystander.pid}" in result.output
    assert bystander.poll() is None


@pytest.mark.usefixtures("moto_endpoint")
def test_concurrent_starts_start_one_server(tmp_path, monkeypatch):
    marker = f"infragen-test-{uuid.uuid4()}"
    monkeypatch.setenv("INFRAGEN_TEST_MARKER", marker)  # inherited by every server the starts spawn
    config = tmp_path / "infragen.toml"
    command = [sys.executable, "-m", "infragen", "local", "start", "--config", str(config)]
    starts = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [process.communicate(timeout=60) for process in starts]
    try:
        assert [process.returncode for process in starts] == [0, 0, 0], outputs
        record = json.loads((tmp_path / ".infragen" / "local.json").read_text())
        assert {out for out, _ in outputs} == {
            f"Local emulator running at http://127.0.0.1:{record['port']} (pid {record['pid']}); "
            "`infragen deploy --local` uses it. Stop with `infragen local stop`.\n"}
        assert _processes_with(marker) == [record["pid"]]
    finally:
        assert local.stop(tmp_path / ".infragen").state == "running"


def _processes_with(marker: str) -> list[int]:
    """Live processes (not zombies) whose environment holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if marker.encode() in open(f"/proc/{entry}/environ", "rb").read() and local._alive(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found

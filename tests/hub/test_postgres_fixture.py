"""The PostgreSQL test server (tests/fixtures/postgres.py) starts, makes and drops databases, and cleans up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.postgres import BIN, PostgresCluster

REPO = Path(__file__).resolve().parents[2]


def psql(port: int, sql: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "kiosk", "-d", "postgres", "-X",
                           *args, "-c", sql], capture_output=True, text=True, timeout=30, check=False)


def listed(port: int) -> set[str]:
    """The database names ``psql -l`` shows."""
    out = subprocess.run([str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "kiosk", "-X", "-l", "-A", "-t"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return {line.split("|")[0] for line in out.splitlines() if "|" in line}


def refuses(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_a_started_cluster_answers_on_its_port(postgres_cluster: PostgresCluster) -> None:  # noqa: F811
    """GIVEN the session's cluster WHEN psql runs select 1 on its port THEN it answers 1."""
    done = psql(postgres_cluster.port, "select 1", "-A", "-t")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert postgres_cluster.psql("show max_connections").strip() == "200"


def test_two_creates_give_two_databases(postgres_cluster: PostgresCluster) -> None:  # noqa: F811
    """GIVEN a cluster WHEN two unnamed databases are created THEN they differ and both exist."""
    first, second = postgres_cluster.create_database(), postgres_cluster.create_database()
    names = [url.rsplit("/", 1)[1] for url in (first, second)]
    try:
        assert first != second
        assert first == postgres_cluster.url(names[0])
        assert first.startswith(f"postgresql+psycopg://kiosk@127.0.0.1:{postgres_cluster.port}/t_")
        assert set(names) <= listed(postgres_cluster.port)
    finally:
        for name in names:
            postgres_cluster.drop_database(name)


def test_drop_database_removes_it_even_with_a_connection_open(postgres_cluster: PostgresCluster) -> None:  # noqa: F811
    """GIVEN a database someone is still connected to WHEN it is dropped THEN psql -l no longer lists it."""
    name = postgres_cluster.create_database("to_drop").rsplit("/", 1)[1]
    assert name in listed(postgres_cluster.port)
    holder = subprocess.Popen([str(BIN / "psql"), "-h", "127.0.0.1", "-p", str(postgres_cluster.port), "-U", "kiosk",
                               "-d", name, "-X", "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "1" not in postgres_cluster.psql(f"select count(*) from pg_stat_activity where datname = '{name}'"):
            assert time.monotonic() < deadline, "the holding connection never arrived"
            time.sleep(0.05)
        postgres_cluster.drop_database(name)
        assert name not in listed(postgres_cluster.port)
    finally:
        holder.kill()
        holder.wait()


def test_postgres_url_is_a_fresh_empty_database(postgres_cluster: PostgresCluster, postgres_url: str) -> None:  # noqa: F811
    """GIVEN the per-test fixture THEN its database exists and has no tables of its own."""
    name = postgres_url.rsplit("/", 1)[1]
    assert name in postgres_cluster.databases()
    assert postgres_cluster.psql("select count(*) from pg_tables where schemaname = 'public'", name).strip() == "0"


def test_after_stop_the_port_refuses_and_the_folder_is_gone() -> None:
    """GIVEN a cluster of its own WHEN it is stopped THEN its port refuses connections and its folder is removed."""
    with PostgresCluster() as cluster:
        port, directory = cluster.port, cluster.directory
        assert directory is not None and directory.is_dir()
        assert cluster.log_path is not None and cluster.log_path.is_file()
        assert not refuses(port)
    assert refuses(port)
    assert not directory.exists() and not directory.parent.exists()
    cluster.stop()  # a second stop is harmless


def test_a_killed_test_run_leaves_no_server_behind() -> None:
    """GIVEN a process that started a cluster WHEN it is SIGKILLed THEN the watchdog stops the server and removes its folder."""
    script = ("from tests.fixtures.postgres import PostgresCluster\n"
              "import sys, time\n"
              "c = PostgresCluster().start()\n"
              "print(c.port, c.directory, flush=True)\n"
              "time.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    port_text, directory_text = child.stdout.readline().split()
    port, directory = int(port_text), Path(directory_text)
    assert not refuses(port) and directory.is_dir()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 30
    while not (refuses(port) and not directory.parent.exists()):
        assert time.monotonic() < deadline, "the server outlived the killed process"
        time.sleep(0.1)

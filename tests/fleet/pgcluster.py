"""A throwaway PostgreSQL cluster for the tests (and the propagation benchmark).

Debian's server binaries (package ``postgresql``; they live in
``/usr/lib/postgresql/<version>/bin``, not on PATH). ``initdb`` makes a cluster in
a temporary folder; the server runs as a non-root user (PostgreSQL refuses root:
as root, the Debian package's ``postgres`` user, else one made with ``useradd``),
listens on 127.0.0.1 on a free port only, requires a password (scram-sha-256),
and is stopped by its process id. Durability is off (``fsync=off``): it holds
nothing worth keeping.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Any

import psycopg
from procs import free_port, wait_until

USER = "gravicors"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
#: The system account the server runs as when the tests run as root.
SERVICE_ACCOUNTS = ("postgres", "gravicors-pg")


def bindir() -> str | None:
    """The newest installed server's bin folder (``None``: not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def _account() -> pwd.struct_passwd | None:
    """The user the server runs as: None (this one) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in SERVICE_ACCOUNTS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_ACCOUNTS[-1]],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVICE_ACCOUNTS[-1])


class PgCluster:
    def __init__(self, binaries: str):
        self.bin = binaries
        self.account = _account()
        self.root = tempfile.mkdtemp(prefix="gravicors-pg-")
        self.data = os.path.join(self.root, "data")
        self.log_path = os.path.join(self.root, "server.log")
        self.password = secrets.token_urlsafe(16)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        pwfile = os.path.join(self.root, "pw")
        with open(pwfile, "w") as handle:
            handle.write(self.password + "\n")
        if self.account is not None:
            for path in (self.root, pwfile):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        self._run(
            [
                os.path.join(self.bin, "initdb"),
                "-D", self.data,
                "-U", USER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )  # fmt: skip
        os.unlink(pwfile)

    def _as_server_user(self, command: list[str]) -> list[str]:
        if self.account is None:
            return command
        # setpriv execs (no process in between): the pid we get is the server's.
        name = self.account.pw_name
        return ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups", "--", *command]

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(self._as_server_user(command), capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=self.password,
            dbname=database,
            autocommit=True,
            connect_timeout=2,
        )

    def _ready(self) -> bool:
        try:
            with self.connect():
                return True
        except psycopg.Error:
            return False

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.running
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self._as_server_user(
                    [
                        os.path.join(self.bin, "postgres"),
                        "-D",
                        self.data,
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(self.port),
                        "-k",
                        self.root,
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                        "-c",
                        "max_connections=200",
                    ]
                ),  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self._ready, START_TIMEOUT, f"postgres on port {self.port}", self.proc)
        except RuntimeError as err:
            raise RuntimeError(f"{err}\n{self.log()}") from None

    def stop(self) -> None:
        """Fast shutdown (SIGINT: sessions are ended, as when a server goes down),
        then SIGQUIT, then SIGKILL: only the server we started."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            proc.send_signal(sig)
            try:
                proc.wait(STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                continue

    def create_database(self, name: str) -> str:
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def remove(self) -> None:
        self.stop()
        # Its children (checkpointer, walwriter...) end with it; wait for them to
        # let go of the folder before removing it.
        deadline = time.monotonic() + STOP_TIMEOUT
        while os.path.exists(os.path.join(self.data, "postmaster.pid")) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)

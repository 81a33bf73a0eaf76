"""Prometheus metrics of every CORS decision (``GRAVICORS_METRICS = True``).

No Flask import here. Needs ``prometheus_client`` (the ``metrics`` extra:
``pip install 'flask-gravicors[metrics]'``); nothing imports this module unless
metrics are on.

The series (their labels come from the config, never from a request, so their
number is bounded by the config whatever clients send):

* ``gravicors_requests_total{api, kind, outcome, reason}``: every request the WSGI
  layer sees. ``api`` the API's name (empty outside every API); ``kind``
  ``preflight``, ``actual`` or ``websocket``; ``outcome`` ``allowed``, ``refused``
  (a failed preflight, or an actual request whose ``Origin`` is not allowed: it
  reaches the view, but the browser will not let the script read it) or
  ``untouched`` (no API owns the path, its CORS is not active, or a WebSocket
  handshake); ``reason`` ``origin``, ``method``, ``headers``, ``private_network``
  (a preflight asking for Private Network Access the API does not grant) or empty.
* ``gravicors_policy_answers_total{api, policy, status}``: a flow step or a plan's
  security (``policy="security"``) answered instead of the view.
* ``gravicors_config_version`` and ``gravicors_config_reloads_total{result}``
  (``applied`` or ``refused``), with a config store.

Counting is one float added in shared memory: each process writes its own file
in prometheus_client's multiprocess format (``counter_gravicors-<pid>-<n>-<random>.db``),
and a scrape merges every file of the directory with prometheus_client's
``MultiProcessCollector``, so it sees every request that finished before it, in
every worker, with nothing to flush and nothing lost when a worker is killed.
The directory is ``GRAVICORS_METRICS_DIR``, else the environment's
``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's own setting, so an app's own
multiprocess metrics come out of the same scrape), else a private temporary
directory of the process that made the :class:`Metrics` (shared with the
processes it forks, such as ``gunicorn --preload`` workers).
"""

from __future__ import annotations

import glob
import mmap
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from typing import Any, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

#: (name, label names, help) of each metric.
Metric = tuple[str, tuple[str, ...], str]

REQUESTS: Metric = (
    "gravicors_requests",
    ("api", "kind", "outcome", "reason"),
    "Requests seen by flask_gravicors, by CORS decision",
)
POLICY_ANSWERS: Metric = (
    "gravicors_policy_answers",
    ("api", "policy", "status"),
    "Answers given by a flow step or a plan's security instead of the view",
)
CONFIG_RELOADS: Metric = ("gravicors_config_reloads", ("result",), "Store versions applied or refused by this app's workers")
CONFIG_VERSION: Metric = ("gravicors_config_version", (), "The lowest config store version any live worker runs")

_METRICS = {metric[0]: metric for metric in (REQUESTS, POLICY_ANSWERS, CONFIG_RELOADS, CONFIG_VERSION)}

#: Label values (``reason`` may also be empty).
KINDS = ("preflight", "actual", "websocket")
OUTCOMES = ("allowed", "refused", "untouched")
REASONS = ("origin", "method", "headers", "private_network", "")

#: What the multiprocess collector reads the gauge as: the lowest value over the
#: live processes (files of processes that are gone are removed at each scrape).
GAUGE_MODE = "livemin"


class Count:
    """One series' value in shared memory: ``inc()`` adds one.

    No lock: with the GIL, ``view[index] += 1.0`` on a memoryview is never split by
    a thread switch (no bytecode of it checks for one, and neither the item read
    nor the float addition calls Python code or releases the GIL), so threads of a
    threaded server never lose a count; ``tests/test_metrics.py`` hammers one
    count from threads switching every microsecond. A lock measured 0.35 µs per
    request, 0.8 % of a GET. Builds without the GIL refuse metrics (gravicors.E093).
    """

    __slots__ = ("view", "index")

    def __init__(self, view: Any, index: int):
        self.view = view
        self.index = index

    def inc(self) -> None:
        self.view[self.index] += 1.0

    def set(self, value: float) -> None:
        self.view[self.index] = value

    @property
    def value(self) -> float:
        return float(self.view[self.index])


class _File:
    """One file of prometheus_client's multiprocess format written by this process.

    prometheus_client's ``MmapedDict`` appends the entries (key, value and
    timestamp); the values are then written in place through this process's own
    mappings of the file (a float at a fixed offset, read by any scraping process).
    """

    def __init__(self, path: str):
        self.path = path
        self._dict = MmapedDict(path)
        self._maps: list[tuple[mmap.mmap, Any]] = []
        self._fd = os.open(path, os.O_RDWR)

    def slot(self, key: str) -> tuple[Any, int]:
        """The mapping and index of the value of ``key`` (a new entry is 0)."""
        self._dict.write_value(key, 0.0, 0.0)
        position = self._position(key)
        size = os.fstat(self._fd).st_size
        if not self._maps or len(self._maps[-1][1]) * 8 < position + 16:
            # A longer file (prometheus_client doubles it when full): a new mapping;
            # the older ones stay valid for the values they cover.
            mapped = mmap.mmap(self._fd, size)
            self._maps.append((mapped, memoryview(mapped).cast("d")))
        return self._maps[-1][1], position // 8

    def _position(self, key: str) -> int:
        positions = getattr(self._dict, "_positions", None)
        if isinstance(positions, dict) and key in positions:
            return int(positions[key])
        for found, _value, _timestamp, position in MmapedDict.read_all_values_from_file(self.path):
            if found == key:
                return int(position)
        raise RuntimeError(f"prometheus_client wrote no entry for {key!r} in {self.path}")

    def close(self) -> None:
        if self._fd >= 0:
            self._dict.close()
            os.close(self._fd)
            self._fd = -1


_serial = iter(range(1, 1 << 62))
_live: weakref.WeakSet[Metrics] = weakref.WeakSet()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release(files: list[_File], private: str | None, owner: int) -> None:
    """Close a :class:`Metrics`' files, and remove its private directory (never from
    a forked child: the directory is its parent's)."""
    for file in files:
        file.close()
    files.clear()
    if private is not None and os.getpid() == owner:
        shutil.rmtree(private, ignore_errors=True)


class Metrics:
    """One app's metrics: where they are counted and how a scrape reads them.

    ``directory``: the multiprocess directory shared by the app's workers (see the
    module docstring); ``None``: a private one. ``path``: the URL path the WSGI
    layer answers with :meth:`exposition`.
    """

    def __init__(self, directory: str | None = None, path: str = "/metrics"):
        self.path = path
        self.private = directory is None
        if directory is None:
            directory = tempfile.mkdtemp(prefix="gravicors-metrics-")
        elif not os.path.isdir(directory):
            raise ValueError(f"metrics directory {directory!r} does not exist")
        self.directory = directory
        self._serial = next(_serial)
        self._lock = threading.Lock()
        #: By (metric name, label values).
        self._counts: dict[tuple[str, tuple[str, ...]], Count] = {}
        #: The files this process writes (closed, and a private directory removed,
        #: when these metrics are collected or the process exits).
        self._files: list[_File] = []
        weakref.finalize(self, _release, self._files, directory if self.private else None, os.getpid())
        self._open()
        self._registry = CollectorRegistry()
        MultiProcessCollector(self._registry, path=directory)
        _live.add(self)

    def _name(self, kind: str) -> str:
        # A random part too: a process that gets a dead worker's pid must not open
        # (and reset the counts of) that worker's file.
        return os.path.join(self.directory, f"{kind}_gravicors-{os.getpid()}-{self._serial}-{secrets.token_hex(4)}.db")

    def _open(self) -> None:
        for file in self._files:
            file.close()
        self._counters = _File(self._name("counter"))
        self._gauges = _File(self._name(f"gauge_{GAUGE_MODE}"))
        self._files[:] = [self._counters, self._gauges]

    def _slot(self, metric: Metric, values: tuple[str, ...]) -> tuple[Any, int]:
        name, labels, help_text = metric
        gauge = metric is CONFIG_VERSION
        file = self._gauges if gauge else self._counters
        return file.slot(mmap_key(name, name if gauge else name + "_total", list(labels), list(values), help_text))

    def _count(self, metric: Metric, values: tuple[str, ...]) -> Count:
        key = (metric[0], values)  # the name: hashing the whole metric costs more
        found = self._counts.get(key)
        if found is None:
            with self._lock:
                found = self._counts.get(key)
                if found is None:
                    found = self._counts[key] = Count(*self._slot(metric, values))
        return found

    def requests(self, api: str, kind: str, outcome: str, reason: str = "") -> Count:
        """The count of ``gravicors_requests_total`` with these labels (made on first use)."""
        return self._count(REQUESTS, (api, kind, outcome, reason))

    def policy_answer(self, api: str, policy: str, status: int) -> None:
        self._count(POLICY_ANSWERS, (api, policy, str(status))).inc()

    def config_reload(self, result: str, version: int | None = None) -> None:
        """A store version ``applied`` (then the version gauge follows) or ``refused``."""
        self._count(CONFIG_RELOADS, (result,)).inc()
        if result == "applied" and version is not None:
            self.config_version(version)

    def config_version(self, version: int) -> None:
        self._count(CONFIG_VERSION, ()).set(float(version))

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets and its content type: every metric of the directory."""
        self._forget_dead_gauges()
        return generate_latest(self._registry), CONTENT_TYPE_LATEST

    def answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI answer at :attr:`path`: the exposition to GET and HEAD, 405 to
        anything else; never cached, never with CORS headers."""
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
            return [b""]
        body, content_type = self.exposition()
        start_response(
            "200 OK",
            [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
        )
        return [b"" if method == "HEAD" else body]

    def _forget_dead_gauges(self) -> None:
        # The gauge is the lowest over live processes: a worker that is gone (killed,
        # recycled) must stop counting, without a server hook telling us.
        for path in glob.glob(os.path.join(self.directory, f"gauge_{GAUGE_MODE}_gravicors-*.db")):
            pid = os.path.basename(path).split("-")[1]
            if pid.isdigit() and not _alive(int(pid)):
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass

    def _after_fork(self) -> None:
        """In a forked child: count in files of its own from now on (the parent's
        files keep what the parent counted); every counter starts at 0 here."""
        self._lock = threading.Lock()
        self._open()
        for (name, values), count in self._counts.items():
            metric = _METRICS[name]
            kept = count.value if metric is CONFIG_VERSION else 0.0
            count.view, count.index = self._slot(metric, values)
            count.set(kept)


def _after_fork_child() -> None:
    for metrics in list(_live):
        metrics._after_fork()


os.register_at_fork(after_in_child=_after_fork_child)

__all__ = ["Metrics", "Count", "KINDS", "OUTCOMES", "REASONS"]

"""flask_gravicors against bare Flask and flask-cors: the targets of issue 5.

    python3 benchmarks/bench.py               # in-process WSGI table (about 2 minutes)
    python3 benchmarks/bench.py --quick       # same cases, fewer and shorter repeats
    python3 benchmarks/bench.py instructions  # instructions per request under callgrind (about 8 minutes)
    python3 benchmarks/bench.py wrk           # gunicorn (1 sync worker) + wrk on 127.0.0.1 (about 9 minutes)
    python3 benchmarks/bench.py server-instructions  # the gunicorn worker's instructions per request (about 2 minutes)
    python3 benchmarks/bench.py propagation   # save -> every gunicorn worker serves it, 50 saves per store (about 2 minutes)

In-process mode: the WSGI callables are called directly. Each case's environ is
built once and copied per call; the body is consumed and ``close()`` called.
Every (case, app) cell is calibrated to a batch of about ``--batch-ms``, then the
repeats are interleaved (each repeat runs every cell once, in a shuffled order),
so load from other processes hits all cells alike; each compared cell also runs
its base (bare Flask, or the row's reference) right next to it. Time is this
thread's CPU time (``--wall`` for wall-clock time), so waiting for a core on a
loaded machine is not counted. Cells report the median µs per request over the
repeats and the min–max of the repeats; a ratio (or Δ) is the median over the
repeats of cell ÷ base (or cell − base) measured side by side. Speed is only
ever measured here, never asserted in a test.

Instructions mode: each cell's request counted by valgrind's callgrind, which is
repeatable whatever else the machine does (times here swing by a few percent with
the load of the machine's neighbours). A cell runs in a child process twice, for N
and 2N calls after the same warm-up; the difference over N is its instructions per
request. Not the targets (those are times), but the cost those times are noisy
readings of. A count also depends on the memory layout the child gets, which any
edit of this file can shift by a couple of thousand instructions per request.

Server-instructions mode: the wrk servers under callgrind, a run of N and one of
2N requests each; the worker's difference over N is what the server executes per
request, the side of the wrk rows that times measure only through the noise.

Propagation mode: gunicorn serving an app whose config comes from a store
(SQLite: one server of 4 workers; PostgreSQL: two servers of 2), a new version
saved, and every worker asked until each serves it; p50 and p99 of that time.

Needs the ``bench`` extras (flask-cors, gunicorn) and the api-key plugin
(``pip install -e .[bench] -e plugins/gravicors-apikey``); ``wrk`` needs the wrk binary, and
the two instruction modes valgrind (Debian packages ``wrk``, ``valgrind``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import gc
import http.client
import os
import pathlib
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Callable

#: This folder, and the checkout it is in: every mode measures the checkout's flask_gravicors.
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(1, ROOT)

import apps  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

import flask_gravicors  # noqa: E402

WSGI = Callable[..., Any]


# --------------------------------------------------------------------------- cells


def environ(method: str, headers: dict[str, str], path: str = "/api/items") -> dict[str, Any]:
    return EnvironBuilder(path=path, method=method, headers=list(headers.items()), base_url="http://localhost").get_environ()


def get(origin: str, **extra: str) -> dict[str, Any]:
    return environ("GET", {"Origin": origin, **extra})


def preflight(origin: str, method: str = "PUT", headers: str | None = "content-type,authorization") -> dict[str, Any]:
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return environ("OPTIONS", h)


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    _start_response.last = (status, headers)  # type: ignore[attr-defined]


def call(app: WSGI, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    it = app(env.copy(), _start_response)
    try:
        body = b"".join(it)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    status, headers = _start_response.last  # type: ignore[attr-defined]
    return status, headers, body


#: The clock of every in-process measurement. CPU time of this thread by default:
#: on a shared machine the time spent waiting for a core is not the code's cost
#: (``--wall`` switches to wall-clock time).
CLOCK = time.thread_time_ns


def batch(app: WSGI, env: dict[str, Any] | list[dict[str, Any]], n: int) -> float:
    """µs per request over ``n`` calls (of ``env``, or cycling through a list of them)."""
    if isinstance(env, list):
        return batch_cycle(app, env, n)
    copy = env.copy
    sr = _start_response
    clock = CLOCK
    t0 = clock()
    for _ in range(n):
        it = app(copy(), sr)
        for _chunk in it:
            pass
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return (clock() - t0) / n / 1000


def batch_cycle(app: WSGI, envs: list[dict[str, Any]], n: int) -> float:
    """:func:`batch` for a list of environs: call ``i`` uses ``envs[i % len(envs)]``,
    and the next batch goes on where this one stopped."""
    sr = _start_response
    clock = CLOCK
    start = batch_cycle.next.get(id(envs), 0)  # type: ignore[attr-defined]
    count = len(envs)
    t0 = clock()
    for i in range(start, start + n):
        it = app(envs[i % count].copy(), sr)
        for _chunk in it:
            pass
        close = getattr(it, "close", None)
        if close is not None:
            close()
    elapsed = clock() - t0
    batch_cycle.next[id(envs)] = (start + n) % count  # type: ignore[attr-defined]
    return elapsed / n / 1000


batch_cycle.next = {}  # type: ignore[attr-defined]


@dataclass
class Cell:
    key: str
    app: WSGI
    #: The request, or a list of requests called in turn (the ``paths`` cells).
    env: dict[str, Any] | list[dict[str, Any]]
    n: int = 1
    samples: list[float] = field(default_factory=list)
    #: The cell this one is compared with, run right next to it in every repeat.
    base: Cell | None = None
    base_samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float:
        """Median over repeats of this cell's time over its base's, measured side by side."""
        return statistics.median(x / y for x, y in zip(self.samples, self.base_samples, strict=True))

    def delta(self) -> tuple[float, float, float]:
        """Median and interquartile range of (this − base) over repeats, in µs."""
        d = sorted(x - y for x, y in zip(self.samples, self.base_samples, strict=True))
        q = statistics.quantiles(d, n=4) if len(d) >= 4 else [d[0], 0, d[-1]]
        return statistics.median(d), q[0], q[-1]

    def text(self) -> str:
        return f"{fmt(self.median)} ({fmt(min(self.samples))}–{fmt(max(self.samples))})"


def fmt(us: float) -> str:
    if us >= 1000:
        return f"{us / 1000:,.1f} ms"
    return f"{us:.1f}" if us >= 10 else f"{us:.2f}"


# --------------------------------------------------------------------------- checks


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def first_env(cell: Cell) -> dict[str, Any]:
    return cell.env[0] if isinstance(cell.env, list) else cell.env


def expect(cell: Cell, status: str, acao: str | None) -> None:
    """Fail loudly if a flask_gravicors cell does not answer as the case says."""
    got_status, headers, _ = call(cell.app, first_env(cell))
    got_acao = header(headers, "Access-Control-Allow-Origin")
    if not got_status.startswith(status) or got_acao != acao:
        raise SystemExit(f"{cell.key}: expected {status} / ACAO {acao!r}, got {got_status} / {got_acao!r}")


# --------------------------------------------------------------------------- in-process


#: The api-key header sent by every request of the chain cells and their base.
KEYED = {"X-Gravitee-Api-Key": apps.API_KEY}
#: A 64 KiB Access-Control-Request-Headers value (20 000 names cut to 64 KiB).
BIG_REQUEST_HEADERS = ",".join(f"x-h{i}" for i in range(20_000))[: 64 * 1024].rstrip(",")

#: Every cell of the in-process table: ``variant:case``. ``case`` is ``get``/``options``
#: (bare Flask), a preflight, or ``<kind><count>:<allowed|disallowed>``.
CELL_KEYS = [
    "bare:get",
    "bare-hook:get",
    "bare-headers:get",
    "bare:options",
    *(
        f"{variant}:exact{count}:{verdict}"
        for count in (1, 10_000, 100_000)
        for variant in ("flask-cors", "gravicors")
        for verdict in ("allowed", "disallowed")
    ),
    *(
        f"{variant}:{case}"
        for variant in ("flask-cors", "gravicors")
        for case in ("preflight", "preflight-bad-method", "preflight-bad-origin")
    ),
    "gravicors:preflight-64k",
    *(f"{variant}:{kind}1000:allowed" for kind in ("regex", "glob") for variant in ("flask-cors", "gravicors")),
    "bare:get-paths",
    "gravicors:paths",
    "bare:get-origins",
    "gravicors:origins",
    "gravicors:origins-regex",
    "gravicors-nochain:exact1:allowed",
    "gravicors-keyed:exact1:allowed",
    "gravicors-2noop:exact1:allowed",
    "gravicors-2policies:exact1:allowed",
    "gravicors-neighbour:exact1:allowed",
    # The config from a SQLite config store, its watcher thread polling meanwhile.
    "gravicors-store:exact1:allowed",
    "gravicors-store:preflight",
    "gravicors-plans:exact1:allowed",
    "gravicors-plans:preflight",
    "gravicors-plans-rp:preflight",
    "gravicors-dynamic:exact1:dynamic",
    # GRAVICORS_METRICS on: every request counted.
    "gravicors-metrics:exact1:allowed",
    "gravicors-metrics:exact1:disallowed",
    "gravicors-metrics:preflight",
]

#: What each flask_gravicors cell must answer: status, and whether its origin is allowed.
EXPECTED = {
    "allowed": ("200", True),
    "disallowed": ("200", False),
    "preflight": ("200", True),
    "preflight-bad-method": ("400", False),
    "preflight-bad-origin": ("400", False),
    "preflight-64k": ("400", False),
    "paths": ("200", True),
    "origins": ("200", False),
    "origins-regex": ("200", False),
    "dynamic": ("200", True),
}

#: The ``paths`` cells: an allowed GET to ``/api/items/<id>``, a new id on every
#: request for this many requests (then round again), so no path is seen twice in a
#: row, as on an API whose URLs carry ids: what a cache keyed by the whole path
#: cannot help with.
PATH_IDS = 20_000


def path_gets(origin: str) -> list[dict[str, Any]]:
    one = get(origin)
    return [
        {**one, "PATH_INFO": f"/api/items/{i}", "REQUEST_URI": f"/api/items/{i}", "RAW_URI": f"/api/items/{i}"}
        for i in range(PATH_IDS)
    ]


#: The ``origins`` cells: a GET from a new, refused Origin on every request, this
#: many in turn: more than flask_gravicors's bounded caches hold (4 096 each), so
#: every request misses them, as in a flood of made-up origins.
ORIGIN_IDS = 20_000
#: Case of each new-Origin cell -> the origin list of the app it calls.
ORIGIN_CASES = {"get-origins": "exact1", "origins": "exact1", "origins-regex": "regex1000"}


def origin_gets(kind: str) -> list[dict[str, Any]]:
    """``exact``: unknown hosts. ``regex``: hosts under the suffix one regex entry of
    :func:`apps.regex_origins` ends with, over plain http, so the entry is tried
    and fails (a worse case than a suffix no entry has)."""
    if kind == "regex":
        template = apps.REGEX_ORIGIN.replace("https://shop", "http://x{}")
    else:
        template = "https://x{}.evil.example.net"
    one = get(template.format(0))
    return [{**one, "HTTP_ORIGIN": template.format(i)} for i in range(ORIGIN_IDS)]


_CHAINS: dict[str, dict[str, Any]] = {
    "gravicors-2noop": {"policies": apps.TWO_NOOP_POLICIES},
    "gravicors-2policies": {"policies": apps.TWO_POLICIES},
    "gravicors-neighbour": {"neighbour_policies": apps.TWO_NOOP_POLICIES},
    # Plans and flows (issue 13): an api-key and a keyless plan, one API flow with
    # one step; its GET has no key (the keyless plan). Plans never run on a
    # preflight, flows only with run_policies on ("-rp").
    "gravicors-plans": {"plans": apps.PLANS, "flows": apps.FLOWS},
    "gravicors-plans-rp": {"plans": apps.PLANS, "flows": apps.FLOWS, "cors": {"run_policies": True}},
    # An origin allowed by the gravicors_origin_allowed hook, its decision cached.
    "gravicors-dynamic": {"cors": {"dynamic_origins": True}},
}


def _origins(spec: str) -> tuple[str, int]:
    """``"exact10000"`` -> ``("exact", 10000)``."""
    kind = spec.rstrip("0123456789")
    return kind, int(spec[len(kind) :])


@functools.cache
def app_for(variant: str, origins: str = "exact1") -> WSGI:
    """The app of a cell (cached: cells of one app share it). ``origins`` is
    ``<kind><count>``; flask-cors has no subdomain wildcards and gets the
    equivalent regexes for ``glob``."""
    if variant in ("bare", "bare-hook", "bare-headers"):
        return apps.make_app(variant)
    kind, count = _origins(origins)
    if variant == "flask-cors" and kind == "glob":
        kind = "regex"
    if variant in _CHAINS:
        return apps.make_app("gravicors", apps.origin_list(kind, count), **_CHAINS[variant])
    return apps.make_app(variant, apps.origin_list(kind, count))


def make_cell(key: str) -> Cell:
    """The app and request of ``key`` (see :data:`CELL_KEYS`)."""
    variant, _, case = key.partition(":")
    if case in ("get-paths", "paths"):
        return Cell(key, app_for(variant), path_gets(apps.ALLOWED_ORIGIN))
    if case in ORIGIN_CASES:
        origins = ORIGIN_CASES[case]
        return Cell(key, app_for(variant, origins), origin_gets(_origins(origins)[0]))
    if case in ("get", "options", "preflight"):
        env = get(apps.ALLOWED_ORIGIN) if case == "get" else preflight(apps.ALLOWED_ORIGIN)
    elif case == "preflight-bad-method":
        env = preflight(apps.ALLOWED_ORIGIN, "PATCH")
    elif case == "preflight-bad-origin":
        env = preflight(apps.DISALLOWED_ORIGIN)
    elif case == "preflight-64k":
        env = preflight(apps.ALLOWED_ORIGIN, "PUT", BIG_REQUEST_HEADERS)
    else:
        origins, _, verdict = case.partition(":")
        if verdict == "dynamic":
            origin = apps.DYNAMIC_ORIGIN
        elif _origins(origins)[0] != "exact":
            origin = apps.REGEX_ORIGIN
        else:
            origin = apps.DISALLOWED_ORIGIN if verdict == "disallowed" else apps.ALLOWED_ORIGIN
        keyed = variant in ("gravicors-keyed", "gravicors-2noop", "gravicors-2policies")
        # gravicors-keyed: the plain gravicors app, asked with the chain cells' request.
        app = app_for("gravicors" if keyed and variant == "gravicors-keyed" else variant, origins)
        return Cell(key, app, get(origin, **(KEYED if keyed else {})))
    return Cell(key, app_for(variant), env)


def check_cell(cell: Cell) -> None:
    """Fail loudly if a flask_gravicors cell does not answer as its case says."""
    if cell.key.startswith("gravicors"):
        status, allowed = EXPECTED[cell.key.rpartition(":")[2]]
        expect(cell, status, first_env(cell)["HTTP_ORIGIN"] if allowed else None)


def base_of(key: str) -> str | None:
    """The cell a cell is compared with (``None`` for the bases themselves)."""
    variant, _, case = key.partition(":")
    if key == "gravicors:preflight-64k":
        return "gravicors:preflight"
    if key == "gravicors:paths":
        return "bare:get-paths"
    if case.startswith("origins"):
        return "bare:get-origins"
    if case.startswith("preflight"):
        return "bare:options"
    if variant in (
        "flask-cors",
        "gravicors",
        "gravicors-store",
        "bare-hook",
        "bare-headers",
        "gravicors-dynamic",
        "gravicors-metrics",
    ):
        return "bare:get"
    if variant == "gravicors-plans":
        # The same API and request without plans and flows: the chain's own cost.
        return "gravicors:exact1:allowed"
    if variant == "gravicors-neighbour":
        return "gravicors-nochain:exact1:allowed"
    if variant in ("gravicors-nochain", "gravicors-keyed"):
        return "gravicors:exact1:allowed"
    if variant in ("gravicors-2noop", "gravicors-2policies"):
        # Same request (api-key header included), same API, no policies.
        return "gravicors-keyed:exact1:allowed"
    return None


def build_cells(quick: bool) -> tuple[dict[str, Cell], dict[str, float]]:
    """Every app and request of the table; returns the cells and set-up facts."""
    info: dict[str, float] = {}
    cells = {key: make_cell(key) for key in CELL_KEYS}
    for cell in cells.values():
        check_cell(cell)
        base = base_of(cell.key)
        cell.base = cells[base] if base is not None else None
    # The four-header yardstick must send exactly what flask_gravicors adds.
    added = call(cells["gravicors:exact1:allowed"].app, first_env(cells["gravicors:exact1:allowed"]))[1][-4:]
    if added != apps.STATIC_CORS_HEADERS:
        raise SystemExit(f"apps.STATIC_CORS_HEADERS is {apps.STATIC_CORS_HEADERS}, flask_gravicors adds {added}")

    # init_app with 100 000 exact origins: time (no tracing), then memory (traced).
    origins = apps.exact_origins(100_000)
    for variant in ("gravicors", "flask-cors"):
        times = []
        for _ in range(1 if quick else 3):
            gc.collect()
            t0 = CLOCK()
            apps.make_app(variant, origins)
            times.append((CLOCK() - t0) / 1e9)
        info[f"{variant}:init_s"] = statistics.median(times)
        gc.collect()
        tracemalloc.start()
        kept = apps.make_app(variant, origins)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del kept
        info[f"{variant}:init_kept_mb"] = current / 2**20
        info[f"{variant}:init_peak_mb"] = peak / 2**20
    return cells, info


def run_inprocess(args: argparse.Namespace) -> None:
    start = Start()
    cells, info = build_cells(args.quick)
    # Set-up garbage out of the way, and the 100 000-origin lists out of the
    # collector's full passes, so no cell pays for another's set-up.
    gc.collect()
    gc.freeze()
    order = list(cells.values())
    for cell in order:  # warm up (fills the regex decision cache), then calibrate
        batch(cell.app, cell.env, 3)
        one = batch(cell.app, cell.env, 1)
        cell.n = max(1, min(int(args.batch_ms * 1000 / max(one, 0.01)), 50_000))
        one = batch(cell.app, cell.env, cell.n)
        cell.n = max(1, int(args.batch_ms * 1000 / max(one, 0.01)))
    watcher = WatcherClock(cells["gravicors-store:exact1:allowed"].app)
    rng = random.Random(5)
    for rep in range(args.repeats):
        rng.shuffle(order)
        for cell in order:
            base = cell.base
            if base is not None and rep % 2:
                cell.base_samples.append(batch(base.app, base.env, base.n))
            cell.samples.append(batch(cell.app, cell.env, cell.n))
            if base is not None and not rep % 2:
                cell.base_samples.append(batch(base.app, base.env, base.n))
        print(f"\rrepeat {rep + 1}/{args.repeats}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    info["store:watcher_share"] = watcher.share()
    print_table(cells, info, args, start)


class WatcherClock:
    """CPU time of the store app's watcher thread over the run, against wall time."""

    def __init__(self, app: Any):
        store = app.extensions["gravicors"].store_for(app)
        self.poll_interval = store.poll_interval
        self.clock = time.pthread_getcpuclockid(store.watcher.thread.ident)
        self.cpu = time.clock_gettime(self.clock)
        self.wall = time.monotonic()

    def share(self) -> float:
        """The share of one core the watcher used (0.01 = 1 %)."""
        return (time.clock_gettime(self.clock) - self.cpu) / (time.monotonic() - self.wall)


def print_table(cells: dict[str, Cell], info: dict[str, float], args: argparse.Namespace, start: Start) -> None:
    c = cells
    bare_get, bare_opt = c["bare:get"], c["bare:options"]
    met_all: list[bool] = []

    def verdict(ok: bool) -> str:
        met_all.append(ok)
        return "met" if ok else "**not met**"

    rows: list[tuple[str, str, str, str, str, str, str]] = []

    def ratio_row(label: str, bare: Cell, fc: Cell | None, gv: Cell, limit: float) -> None:
        r = gv.ratio
        fc_text = f"{fc.text()} = {fc.ratio:,.2f}×" if fc else "–"
        rows.append((label, bare.text(), fc_text, gv.text(), f"{r:.3f}×", f"≤ {limit:.2f}×", verdict(r <= limit)))

    def info_row(label: str, base: Cell, cell: Cell) -> None:
        """A row with no target: the cell, its base and their ratio."""
        rows.append((label, base.text(), "", cell.text(), f"{cell.ratio:.3f}×", "", ""))

    for key, label in (
        ("bare-hook:get", "(yardstick) bare Flask + one empty after_request hook"),
        ("bare-headers:get", "(yardstick) bare Flask + the same four headers, static, by the thinnest WSGI wrapper"),
    ):
        info_row(label, bare_get, c[key])
    for count in (1, 10_000, 100_000):
        ratio_row(
            f"allowed GET, {count:,} exact origin{'s' if count > 1 else ''}",
            bare_get,
            c[f"flask-cors:exact{count}:allowed"],
            c[f"gravicors:exact{count}:allowed"],
            1.05,
        )
    for count in (1, 10_000, 100_000):
        ratio_row(
            f"disallowed-origin GET, {count:,} exact origin{'s' if count > 1 else ''}",
            bare_get,
            c[f"flask-cors:exact{count}:disallowed"],
            c[f"gravicors:exact{count}:disallowed"],
            1.05,
        )
    ratio_row(
        "allowed GET, 1,000 regex origins", bare_get, c["flask-cors:regex1000:allowed"], c["gravicors:regex1000:allowed"], 1.10
    )
    ratio_row(
        "allowed GET, 1,000 glob origins (flask-cors: same as regexes)",
        bare_get,
        c["flask-cors:glob1000:allowed"],
        c["gravicors:glob1000:allowed"],
        1.10,
    )
    ratio_row(
        f"allowed GET from an origin the gravicors_origin_allowed hook allowed ({apps.DYNAMIC_ORIGIN}, cached decision)",
        bare_get,
        None,
        c["gravicors-dynamic:exact1:dynamic"],
        1.05,
    )
    info_row(
        f"(info) allowed GET, 1 exact origin, a new path on every request (/api/items/<id>, {PATH_IDS:,} ids)",
        c["bare:get-paths"],
        c["gravicors:paths"],
    )
    for case, label in (("origins", "1 exact origin"), ("origins-regex", "1,000 regex origins")):
        cell = c[f"gravicors:{case}"]
        example = first_env(cell)["HTTP_ORIGIN"]
        info_row(
            f"(info) refused GET, {label}, a new Origin on every request ({ORIGIN_IDS:,} origins like {example})",
            c["bare:get-origins"],
            cell,
        )
    ratio_row(
        "valid preflight, run_policies off (vs bare automatic OPTIONS)",
        bare_opt,
        c["flask-cors:preflight"],
        c["gravicors:preflight"],
        0.10,
    )
    ratio_row(
        "valid preflight, API with plans and a flow, run_policies off (vs bare automatic OPTIONS)",
        bare_opt,
        None,
        c["gravicors-plans:preflight"],
        0.10,
    )
    info_row(
        "(info) valid preflight, API with plans and a flow, run_policies on: the flow runs in Flask (vs bare OPTIONS)",
        bare_opt,
        c["gravicors-plans-rp:preflight"],
    )
    speedup = c["flask-cors:preflight"].ratio / c["gravicors:preflight"].ratio
    rows.append(
        ("valid preflight: flask-cors ÷ flask_gravicors", "", "", "", f"{speedup:,.1f}× faster", "≥ 15×", verdict(speedup >= 15))
    )
    ratio_row(
        "failed preflight: method (vs bare OPTIONS)",
        bare_opt,
        c["flask-cors:preflight-bad-method"],
        c["gravicors:preflight-bad-method"],
        0.10,
    )
    ratio_row(
        "failed preflight: origin (vs bare OPTIONS)",
        bare_opt,
        c["flask-cors:preflight-bad-origin"],
        c["gravicors:preflight-bad-origin"],
        0.10,
    )
    metrics = "GRAVICORS_METRICS on (every request counted)"
    for case, label in (("allowed", "allowed"), ("disallowed", "disallowed-origin")):
        ratio_row(f"{label} GET, 1 exact origin, {metrics}", bare_get, None, c[f"gravicors-metrics:exact1:{case}"], 1.05)
    ratio_row(f"valid preflight, {metrics} (vs bare automatic OPTIONS)", bare_opt, None, c["gravicors-metrics:preflight"], 0.10)
    store = "config from a SQLite config store, its watcher thread polling every 0.25 s meanwhile"
    ratio_row(f"allowed GET, 1 exact origin, {store}", bare_get, None, c["gravicors-store:exact1:allowed"], 1.05)
    ratio_row(f"valid preflight, {store}", bare_opt, None, c["gravicors-store:preflight"], 0.10)
    rows.append(
        (
            "(info) the watcher thread's own CPU time over the run (not in the cells above: their clock is the "
            "requests' thread; --wall counts its share of the core)",
            "",
            "",
            f"{info['store:watcher_share']:.2%} of a core",
            "",
            "",
            "",
        )
    )
    big = c["gravicors:preflight-64k"]
    r = big.ratio
    rows.append(
        (
            "preflight with 64 KiB Access-Control-Request-Headers (vs a normal preflight)",
            "",
            "",
            big.text(),
            f"{r:.2f}×",
            "≤ 2×",
            verdict(r <= 2),
        )
    )

    chain, nochain = c["gravicors:exact1:allowed"], c["gravicors-nochain:exact1:allowed"]
    d, lo, hi = nochain.delta()
    d, lo, hi = -d, -hi, -lo  # the nochain cell is measured against the chain one
    rows.append(
        (
            "API with no policies vs no chain at all (policy hooks removed from Flask)",
            "",
            "",
            f"{chain.text()} vs {nochain.text()}",
            f"Δ {d:+.2f} µs (IQR {lo:+.2f}…{hi:+.2f})",
            "no measurable difference",
            verdict(lo <= 0 <= hi),
        )
    )

    def delta_row(label: str, cell: Cell, target: str = "", limit: float | None = None, ratio: bool = False) -> None:
        """A row of a cell against its base: Δ µs (median, IQR), and the target Δ ≤ limit."""
        d, lo, hi = cell.delta()
        text = f"Δ {d:+.2f} µs (IQR {lo:+.2f}…{hi:+.2f})" + (f" = {cell.ratio:.3f}× its base" if ratio else "")
        rows.append((label, "", "", cell.text(), text, target, verdict(d <= limit) if limit is not None else ""))

    delta_row(
        "(info) API with no policies while another API has some (policy hooks installed) vs no chain",
        c["gravicors-neighbour:exact1:allowed"],
    )
    for key, label in (
        ("gravicors-2noop", "API with two policies that let the request through (2 no-op policies) vs none"),
        ("gravicors-2policies", "API with two policies that let the request through (api-key + a no-op) vs none"),
    ):
        delta_row(label, c[f"{key}:exact1:allowed"], "≤ +5 µs", 5)
    delta_row(
        "API with an api-key plan, a keyless plan and one flow of one no-op step vs the same API without them "
        "(a GET without key: keyless)",
        c["gravicors-plans:exact1:allowed"],
        "≤ +5 µs",
        5,
        ratio=True,
    )
    t = info["gravicors:init_s"]
    rows.append(
        (
            "`init_app` with 100,000 exact origins",
            "",
            f"{info['flask-cors:init_s']:.2f} s CPU, {info['flask-cors:init_kept_mb']:.1f} MB kept",
            f"{t:.2f} s CPU, {info['gravicors:init_kept_mb']:.1f} MB kept, {info['gravicors:init_peak_mb']:.1f} MB peak",
            "",
            "< 1 s, memory reported",
            verdict(t < 1),
        )
    )

    print()
    clock = "wall-clock" if args.wall else "CPU (thread)"
    print(
        f"In-process WSGI, {clock} µs per request: median (min–max) of {args.repeats} interleaved repeats, "
        f"each a batch of ~{args.batch_ms:g} ms{' (--quick)' if args.quick else ''}. "
        "Ratios and Δ: median over repeats of the cell against its base (bare Flask, or the row's "
        "reference) run right next to it."
    )
    print(machine_note(start))
    print()
    print("| case | bare Flask µs | flask-cors µs = ×bare | flask_gravicors µs | flask_gravicors | target | |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"{sum(met_all)}/{len(met_all)} in-process targets met in this run.")


@dataclass(frozen=True)
class Start:
    """When a run began and the load average then: the neighbours' load on this
    shared machine, before the run's own processes (gunicorn, wrk, valgrind) count in it."""

    at: float = field(default_factory=time.time)
    load: tuple[float, float, float] = field(default_factory=os.getloadavg)


def machine_note(start: Start) -> str:
    load = ", ".join(f"{x:.2f}" for x in start.load)
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start.at))}, took {time.time() - start.at:.0f} s; "
        f"{os.cpu_count()} CPUs, load average at the start {load} (shared machine); Python "
        f"{platform.python_version()}, Flask {_version('flask')}, flask-cors {_version('flask-cors')}, "
        f"flask_gravicors {flask_gravicors.__version__}."
    )


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


# --------------------------------------------------------------------------- instructions

#: Cells of the instruction-count mode: the yardsticks, every flask_gravicors cell,
#: and flask-cors where a run takes seconds (its 10 000-origin cells take minutes
#: under valgrind).
INSTRUCTION_KEYS = [
    key
    for key in CELL_KEYS
    if (key.startswith(("gravicors", "bare-")) and not key.startswith("gravicors-store"))
    or key in ("flask-cors:exact1:allowed", "flask-cors:preflight")
]
# (Not the store cells: callgrind counts every thread, and the watcher's polls in
# the longer run would count as the requests' instructions.)


def count_child(key: str, n: int) -> None:
    """Run in the child under callgrind: warm the cell up, then ``n`` calls with the
    collector off, so that collections falling at different points of the two runs
    do not blur the difference."""
    cell = make_cell(key)
    batch(cell.app, cell.env, 200)
    gc.collect()
    gc.freeze()
    gc.disable()
    batch(cell.app, cell.env, n)


#: A command run under callgrind, counting instructions only (each process prints
#: its "Collected" total on exit).
CALLGRIND = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]


def process_instructions(key: str, n: int) -> int:
    """Instructions the whole child process executed (callgrind's total)."""
    out = subprocess.run(
        [*CALLGRIND, sys.executable, os.path.abspath(__file__), "_count", key, str(n)],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or found is None:
        raise SystemExit(f"callgrind run of {key} failed:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def run_instructions(args: argparse.Namespace) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found (Debian: apt-get install valgrind)")
    start = Start()
    n = args.calls
    keys = sorted({*INSTRUCTION_KEYS, *(b for k in INSTRUCTION_KEYS if (b := base_of(k)) is not None)}, key=CELL_KEYS.index)
    jobs = [(key, calls) for key in keys for calls in (n, 2 * n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: process_instructions(*job), jobs), strict=True))
    # Start-up, imports, app building and warm-up are the same in both runs: the
    # difference is n calls.
    per = {key: (totals[(key, 2 * n)] - totals[(key, n)]) / n for key in keys}
    print()
    print(
        f"Instructions per request (callgrind, PYTHONHASHSEED=0, collector off; (run of {2 * n} calls - run of {n}) / {n}). "
        "Repeatable whatever the machine's load, unlike times; not the targets themselves, which are times."
    )
    print(machine_note(start))
    print()
    print("| cell | instructions | base | base instructions | ratio | Δ instructions |")
    print("|---|---|---|---|---|---|")
    for key in INSTRUCTION_KEYS:
        base = base_of(key)
        assert base is not None
        print(
            f"| {key} | {per[key]:,.0f} | {base} | {per[base]:,.0f} | {per[key] / per[base]:.3f}× | "
            f"{per[key] - per[base]:+,.0f} |"
        )


# --------------------------------------------------------------------------- gunicorn + wrk


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gunicorn on port {port} not ready after {timeout} s")


#: CPUs for the server (gunicorn's master and worker) and for wrk: on a 2-core
#: machine the two otherwise take turns on both cores, and each round's numbers
#: depend on where the scheduler put them.
SERVER_CPU, LOAD_CPU = 0, 1


def pin(cpu: int) -> list[str]:
    """``taskset`` prefix running a command on ``cpu`` alone (nothing when not possible)."""
    if shutil.which("taskset") is None or cpu not in os.sched_getaffinity(0):
        return []
    return ["taskset", "-c", str(cpu)]


def server_env() -> dict[str, str]:
    """The servers' environment: this checkout first on the path, so gunicorn serves
    the flask_gravicors next to this file (as the in-process modes measure it), not
    whichever copy ``pip install -e`` last pointed at."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": ROOT + (os.pathsep + path if path else "")}


def check_served_code() -> None:
    """Fail loudly unless a process started as the servers are imports this checkout's flask_gravicors."""
    found = subprocess.run(
        [sys.executable, "-c", "import flask_gravicors; print(flask_gravicors.__file__)"],
        cwd=HERE, env=server_env(), capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    expected = os.path.join(ROOT, "flask_gravicors", "__init__.py")
    if os.path.realpath(found) != os.path.realpath(expected):
        raise SystemExit(f"the servers would import {found}, not {expected}")


def gunicorn_command(variant: str, count: int, port: int) -> list[str]:
    """One sync gunicorn worker serving ``apps.server_app(variant, count)`` on 127.0.0.1."""
    return [
        sys.executable, "-m", "gunicorn",
        "--workers", "1", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}",
        "--chdir", HERE,
        "--log-level", "warning",
        f'apps:server_app("{variant}", {count})',
    ]  # fmt: skip


def start_server(variant: str, count: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([*pin(SERVER_CPU), *gunicorn_command(variant, count, port)], start_new_session=True, env=server_env())
    try:
        wait_ready(port, proc)
    except BaseException:
        stop_server(proc)
        raise
    return proc, port


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, worker included
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: only its worker
            proc.wait()


def worker_cpu_seconds(master: subprocess.Popen[bytes]) -> tuple[float, float]:
    """CPU time used so far by the gunicorn master's children: (user, system)."""
    user = system = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master.pid:  # ppid
            user += int(fields[11])  # utime
            system += int(fields[12])  # stime
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, system / tick


def wrk(port: int, seconds: float, origin: str) -> tuple[float, int]:
    """Requests per second and number of requests of one wrk run."""
    out = subprocess.run(
        [
            *pin(LOAD_CPU),
            "wrk",
            "-t1",
            "-c4",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-H",
            f"Origin: {origin}",
            f"http://127.0.0.1:{port}/api/items",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rate = count = None
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        elif " requests in " in line:
            count = int(line.split()[0])
    if rate is None or not count:
        raise SystemExit(f"no Requests/sec in wrk output:\n{out}")
    return rate, count


# --------------------------------------------------------------------------- server instructions

#: (variant, origin-list size) of the server-instructions mode: the wrk servers,
#: flask-cors at 1 origin only (its 10 000-origin request takes seconds under valgrind).
SERVER_CELLS = [(v, n) for n in (1, 10_000) for v in ("bare", "bare-headers", "gravicors")] + [("flask-cors", 1)]


def server_worker_instructions(variant: str, count: int, n: int) -> int:
    """Instructions the gunicorn worker of ``variant`` executed, start to stop, having
    served a warm-up and then ``n`` allowed GETs (one connection each, as wrk's
    requests are served by a sync worker), under callgrind."""
    port = free_port()
    proc = subprocess.Popen(
        [*CALLGRIND, *gunicorn_command(variant, count, port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**server_env(), "PYTHONHASHSEED": "0"},
        start_new_session=True,
    )
    try:
        wait_ready(port, proc, timeout=600)
        for _ in range(20 + n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/api/items", headers={"Origin": apps.ALLOWED_ORIGIN})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise SystemExit(f"{variant}: status {response.status}")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # One summary line per process: the master (proc.pid) and its one worker.
    workers = [int(total) for pid, total in re.findall(r"==(\d+)== Collected : (\d+)", err) if int(pid) != proc.pid]
    if len(workers) != 1:
        raise SystemExit(f"callgrind of {variant} gave no single worker count:\n{err[-2000:]}")
    return workers[0]


def run_server_instructions(args: argparse.Namespace) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found (Debian: apt-get install valgrind)")
    check_served_code()
    start = Start()
    n = args.requests
    jobs = [(variant, count, calls) for variant, count in SERVER_CELLS for calls in (n, 2 * n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: server_worker_instructions(*job), jobs), strict=True))
    # Start-up, app loading and warm-up are the same in both runs: the difference is n requests.
    per = {(v, c): (totals[(v, c, 2 * n)] - totals[(v, c, n)]) / n for v, c in SERVER_CELLS}
    print()
    print(
        f"gunicorn (1 sync worker) under callgrind, allowed cross-origin GET over 127.0.0.1: instructions the worker "
        f"executes per request ((run of {2 * n} requests - run of {n}) / {n}, PYTHONHASHSEED=0). The server's side of "
        "the wrk rows, without the noise of times."
    )
    print(machine_note(start))
    print()
    print(
        "| case | bare Flask | bare Flask + the 4 headers (yardstick) = ×bare | flask-cors = ×bare "
        "| flask_gravicors = ×bare | flask_gravicors ÷ yardstick |"
    )
    print("|---|---|---|---|---|---|")
    for count in sorted({c for _, c in SERVER_CELLS}):
        bare, yard, gv = per[("bare", count)], per[("bare-headers", count)], per[("gravicors", count)]
        fc = per.get(("flask-cors", count))
        print(
            f"| allowed GET, {count:,} exact origin{'s' if count > 1 else ''} | {bare:,.0f} | "
            f"{yard:,.0f} = {yard / bare:.3f}× | {'' if fc is None else f'{fc:,.0f} = {fc / bare:.2f}×'} | "
            f"{gv:,.0f} = {gv / bare:.3f}× | {gv / yard:.3f}× |"
        )


def run_wrk(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found (Debian: apt-get install wrk)")
    check_served_code()
    start = Start()
    seconds = 2 if args.quick else args.seconds
    rounds = 2 if args.quick else args.rounds
    # flask-cors is context, not a target: measured in every fifth round only.
    fc_rounds = set(range(0, rounds, 5))
    # (variant, count) -> round -> requests/s, and the worker's CPU µs per request.
    rates: dict[tuple[str, int], dict[int, float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    # The user-space part of that CPU time: the part callgrind counts (server-instructions mode).
    user_share: dict[tuple[str, int], list[float]] = {}
    servers: dict[tuple[str, int], tuple[subprocess.Popen[bytes], int]] = {}
    # A SIGTERM (kill, timeout) unwinds through the finally below like Ctrl-C, so the
    # servers started here are stopped then too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        for count in args.origins:
            for variant in ("bare", "bare-headers", "gravicors", "flask-cors"):
                servers[(variant, count)] = start_server(variant, count)
        for _, port in servers.values():
            wrk(port, 1, apps.ALLOWED_ORIGIN)  # warm-up
        rng = random.Random(5)
        for rnd in range(rounds):
            # One round: per origin-list size, bare Flask and flask_gravicors back to
            # back (which goes first alternates), so each round's ratio compares two
            # runs seconds apart; on this shared machine runs minutes apart differ by
            # more than the ratio measured.
            for count in rng.sample(args.origins, len(args.origins)):
                # bare-headers: the yardstick of what sending the CORS headers costs.
                pair = ["bare", "gravicors", "bare-headers"] if rnd % 2 else ["bare-headers", "gravicors", "bare"]
                for variant in pair + (["flask-cors"] if rnd in fc_rounds else []):
                    key = (variant, count)
                    proc, port = servers[key]
                    user, system = worker_cpu_seconds(proc)
                    rate, served = wrk(port, seconds, apps.ALLOWED_ORIGIN)
                    rates.setdefault(key, {})[rnd] = rate
                    user_after, system_after = worker_cpu_seconds(proc)
                    used = user_after - user + system_after - system
                    cpu.setdefault(key, []).append(used / served * 1e6)
                    if used:
                        user_share.setdefault(key, []).append((user_after - user) / used)
            print(f"\rround {rnd + 1}/{rounds}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            stop_server(proc)
    print()
    print(
        f"gunicorn (1 sync worker, CPU {SERVER_CPU}) + wrk (-t1 -c4, CPU {LOAD_CPU}) on 127.0.0.1, allowed "
        f"cross-origin GET: requests/s, median (min–max) over {rounds} rounds of {seconds:g} s runs (flask-cors: "
        f"{len(fc_rounds)} of them); ratios: median (and interquartile range) of the rounds' ratios to the bare "
        "Flask run of the same round (last column: to the yardstick's run of the same round, which sends the same "
        "headers and decides nothing: this layer's own cost under a real server)."
    )
    print(machine_note(start))
    print()
    print(
        "| case | bare Flask req/s | bare Flask + the 4 headers, static (yardstick) = ×bare "
        "| flask-cors req/s = ×bare | flask_gravicors req/s | flask_gravicors | target | | flask_gravicors ÷ yardstick |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for count in args.origins:

        def text(v: str, count: int = count) -> str:
            r = list(rates[(v, count)].values())
            return f"{statistics.median(r):,.0f} ({min(r):,.0f}–{max(r):,.0f})"

        def ratios(v: str, base: str = "bare", count: int = count) -> list[float]:
            of = rates[(base, count)]
            return [rate / of[rnd] for rnd, rate in rates[(v, count)].items()]

        def ratio_text(v: str, base: str = "bare") -> str:
            r = ratios(v, base)
            q = statistics.quantiles(r, n=4) if len(r) >= 2 else [r[0]] * 3
            return f"{statistics.median(r):.3f}× (IQR {q[0]:.3f}–{q[2]:.3f})"

        gv = statistics.median(ratios("gravicors"))
        print(
            f"| allowed GET, {count:,} exact origin{'s' if count > 1 else ''} | {text('bare')} | "
            f"{text('bare-headers')} = {ratio_text('bare-headers')} | "
            f"{text('flask-cors')} = {statistics.median(ratios('flask-cors')):.2f}× | {text('gravicors')} | "
            f"{ratio_text('gravicors')} | ≥ 0.97× | {'met' if gv >= 0.97 else '**not met**'} | "
            f"{ratio_text('gravicors', 'bare-headers')} |"
        )
    print()
    print(
        "Server-side cost of the same runs: the gunicorn worker's CPU time (user + system, /proc, 10 ms ticks) "
        "per request served, median over rounds (less sensitive to other load than requests/s), and the share of "
        "it spent in user space (the rest is time in the kernel, mostly on the connection: accept, read, write, close)."
    )
    print()
    print(
        "| case | bare Flask µs | bare Flask + the 4 headers µs = ×bare | flask-cors µs = ×bare "
        "| flask_gravicors µs = ×bare | user-space share: bare Flask / flask_gravicors |"
    )
    print("|---|---|---|---|---|---|")
    for count in args.origins:
        med = {v: statistics.median(cpu[(v, count)]) for v in ("bare", "bare-headers", "flask-cors", "gravicors")}
        print(
            f"| allowed GET, {count:,} exact origin{'s' if count > 1 else ''} | {med['bare']:.1f} | "
            f"{med['bare-headers']:.1f} = {med['bare-headers'] / med['bare']:.3f}× | "
            f"{med['flask-cors']:,.1f} = {med['flask-cors'] / med['bare']:.2f}× | "
            f"{med['gravicors']:.1f} = {med['gravicors'] / med['bare']:.3f}× | "
            f"{statistics.median(user_share[('bare', count)]):.0%} / {statistics.median(user_share[('gravicors', count)]):.0%} |"
        )


# --------------------------------------------------------------------------- propagation

#: (store, gunicorn servers and their workers) of the propagation mode.
PROPAGATION_LAYOUTS = {"sqlite": [4], "postgresql": [2, 2]}


def run_propagation(args: argparse.Namespace) -> None:
    """Saves a new version, then asks every worker (told apart by pid) until each
    serves it: the time from the save call to the last worker's first new answer.
    The test suite's fleet app, gunicorn launcher, prober and PostgreSQL cluster
    (tests/fleet/) serve here too."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from fleet.fleetapp import config_for
    from fleet.pgcluster import PgCluster, bindir
    from fleet.servers import Prober, start_server
    from procs import Gunicorn

    from flask_gravicors.schema import load_config
    from flask_gravicors.store.sql import SqlStore

    check_served_code()
    start = Start()
    saves = 5 if args.quick else args.saves
    results: list[tuple[str, list[int], list[float]]] = []
    rng = random.Random(5)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="gravicors-propagation-") as tmp:
        for kind in args.stores:
            cluster: PgCluster | None = None
            servers: list[Gunicorn] = []
            store: SqlStore | None = None
            prober: Prober | None = None
            try:
                if kind == "postgresql":
                    binaries = bindir()
                    if binaries is None:
                        raise SystemExit("PostgreSQL's server is not installed (Debian: apt-get install postgresql)")
                    cluster = PgCluster(binaries)
                    cluster.start()
                    url = cluster.create_database("propagation")
                else:
                    url = f"sqlite:///{tmp}/store.db"
                servers = [start_server(url, pathlib.Path(tmp), workers=n) for n in PROPAGATION_LAYOUTS[kind]]
                pids: set[int] = set().union(*(server.pids() for server in servers))
                store = SqlStore(url, lambda raw: load_config(raw, {}))
                prober = Prober(servers)
                prober.wait_serving(pids, "https://v0.example", timeout=30)
                times = []
                for i in range(1, saves + 1):
                    # Saves fall at random points of the watchers' poll cycles.
                    time.sleep(rng.uniform(0.05, 0.5))
                    origin = f"https://p{i}.example"
                    saved = time.monotonic()
                    store.save(config_for(origin), author="bench")
                    times.append(max(prober.wait_serving(pids, origin, timeout=30, since=saved).values()))
                    print(f"\r{kind}: save {i}/{saves}", end="", file=sys.stderr, flush=True)
                print(file=sys.stderr)
                results.append((kind, PROPAGATION_LAYOUTS[kind], times))
            finally:
                if prober is not None:
                    prober.close()
                for server in servers:
                    server.stop()
                if store is not None:
                    store.dispose()
                if cluster is not None:
                    cluster.remove()
    print()
    print(
        f"Propagation: a save through the store's Python API, then every gunicorn worker asked (concurrent GETs, "
        f"each worker told by its pid; a request takes 20 ms) until each answers with the new config: seconds from "
        f"the save call to the last worker's first new answer, over {saves} saves at random points of the watchers' "
        "0.25 s polls. The probing adds up to one round of requests (about 50 ms) to each figure."
    )
    print(machine_note(start))
    print()
    print("| store | gunicorn servers × workers | saves | p50 | p99 | max | target | |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, layout, times in results:
        p99 = statistics.quantiles(times, n=100, method="inclusive")[98] if len(times) > 1 else times[0]
        print(
            f"| {kind} | {' + '.join(str(n) for n in layout)} | {len(times)} | {statistics.median(times):.3f} s | "
            f"{p99:.3f} s | {max(times):.3f} s | p99 ≤ 1 s | {'met' if p99 <= 1 else '**not met**'} |"
        )


def main() -> None:
    if sys.argv[1:2] == ["_count"]:  # the child of the instructions mode
        count_child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "mode",
        nargs="?",
        choices=["inprocess", "instructions", "wrk", "server-instructions", "propagation"],
        default="inprocess",
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 201, quick 11)")
    parser.add_argument("--batch-ms", type=float, default=None, help="target ms per cell per repeat (default 5)")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock instead of thread CPU time")
    parser.add_argument("--seconds", type=int, default=2, help="wrk: seconds of one run (default 2)")
    parser.add_argument("--rounds", type=int, default=40, help="wrk: rounds (default 40)")
    parser.add_argument("--calls", type=int, default=300, help="instructions: calls of the shorter run (default 300)")
    parser.add_argument("--origins", type=int, nargs="+", default=[1, 10_000], help="wrk: origin-list sizes")
    parser.add_argument("--requests", type=int, default=200, help="server-instructions: requests of the shorter run")
    parser.add_argument("--saves", type=int, default=50, help="propagation: saves per store (default 50, quick 5)")
    parser.add_argument(
        "--stores", nargs="+", choices=sorted(PROPAGATION_LAYOUTS), default=["sqlite", "postgresql"], help="propagation: stores"
    )
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 11 if args.quick else 201
    if args.batch_ms is None:
        args.batch_ms = 5
    if args.wall:
        global CLOCK
        CLOCK = time.perf_counter_ns
    if args.mode == "wrk":
        run_wrk(args)
    elif args.mode == "propagation":
        run_propagation(args)
    elif args.mode == "server-instructions":
        run_server_instructions(args)
    elif args.mode == "instructions":
        run_instructions(args)
    else:
        run_inprocess(args)


if __name__ == "__main__":
    main()

"""The app's own settings (flask_gravicors.settings): a wrong type or value is one
ConfigError (gravicors.E003) naming the key, before anything is opened; never read
loosely ("no" as true) and never another exception out of init_app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from conftest import make_app
from flask_gravicors import ConfigError, GraviCORS
from flask_gravicors.settings import flag, number, text

API = {"name": "orders", "context_path": "/orders", "cors": {"enabled": True, "allow_origin": ["https://shop.example.com"]}}
STORE = "sqlite:///{tmp}/store.db"

# (id, app settings, the key refused); {tmp} is the test's directory.
REFUSED = [
    ("debug 'on'", {"GRAVICORS_DEBUG": "on"}, "GRAVICORS_DEBUG"),
    ("metrics 1", {"GRAVICORS_METRICS": 1}, "GRAVICORS_METRICS"),
    ("console '1'", {"GRAVICORS_CONSOLE": "1"}, "GRAVICORS_CONSOLE"),
    ("ttl -1", {"GRAVICORS_DYNAMIC_ORIGINS_TTL": -1}, "GRAVICORS_DYNAMIC_ORIGINS_TTL"),
    ("ttl '60'", {"GRAVICORS_DYNAMIC_ORIGINS_TTL": "60"}, "GRAVICORS_DYNAMIC_ORIGINS_TTL"),
    ("ttl True", {"GRAVICORS_DYNAMIC_ORIGINS_TTL": True}, "GRAVICORS_DYNAMIC_ORIGINS_TTL"),
    ("store 5", {"GRAVICORS_STORE": 5}, "GRAVICORS_STORE"),
    ("store not a URL", {"GRAVICORS_STORE": "nonsense"}, "GRAVICORS_STORE"),
    ("store of another database", {"GRAVICORS_STORE": "mysql://u:pw@127.0.0.1/db"}, "GRAVICORS_STORE"),
    ("store of an unknown dialect", {"GRAVICORS_STORE": "nosuchdb://u:pw@127.0.0.1/db"}, "GRAVICORS_STORE"),
    ("poll 'abc'", {"GRAVICORS_STORE": STORE, "GRAVICORS_STORE_POLL_INTERVAL": "abc"}, "GRAVICORS_STORE_POLL_INTERVAL"),
    ("poll 100", {"GRAVICORS_STORE": STORE, "GRAVICORS_STORE_POLL_INTERVAL": 100}, "GRAVICORS_STORE_POLL_INTERVAL"),
    ("poll 0", {"GRAVICORS_STORE": STORE, "GRAVICORS_STORE_POLL_INTERVAL": 0}, "GRAVICORS_STORE_POLL_INTERVAL"),
    ("watch 'no'", {"GRAVICORS_STORE": STORE, "GRAVICORS_STORE_WATCH": "no"}, "GRAVICORS_STORE_WATCH"),
    ("watch 0", {"GRAVICORS_STORE": STORE, "GRAVICORS_STORE_WATCH": 0}, "GRAVICORS_STORE_WATCH"),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "key"), [pytest.param(*r[1:], id=r[0]) for r in REFUSED])
def test_a_bad_setting_is_e003_naming_its_key(tmp_path: Path, settings: dict[str, Any], key: str) -> None:
    config = {k: v.format(tmp=tmp_path) if isinstance(v, str) else v for k, v in settings.items()}
    app = Flask(__name__)
    app.config.update(config, GRAVICORS={"apis": [API]})
    with pytest.raises(ConfigError) as refused:
        GraviCORS(app, entry_points=False)
    assert [(p.path, p.id) for p in refused.value.problems] == [(key, "gravicors.E003")]
    assert "pw" not in str(refused.value)  # a store URL's password is never shown
    assert "gravicors" not in app.extensions
    assert list(tmp_path.iterdir()) == []  # refused before anything was opened


# (id, settings, what the process does with them)
ACCEPTED = [
    ("watch False, poll 0.5", {"GRAVICORS_STORE_WATCH": False, "GRAVICORS_STORE_POLL_INTERVAL": 0.5}, False),
    ("watch True, poll 1", {"GRAVICORS_STORE_WATCH": True, "GRAVICORS_STORE_POLL_INTERVAL": 1}, True),
]  # fmt: skip


@pytest.mark.parametrize(("settings", "watching"), [pytest.param(*r[1:], id=r[0]) for r in ACCEPTED])
def test_good_store_settings_are_read_as_given(tmp_path: Path, settings: dict[str, Any], watching: bool) -> None:
    app = make_app([API], config={"GRAVICORS_STORE": f"sqlite:///{tmp_path}/store.db", **settings})
    store = app.extensions["gravicors"].store_for(app)
    try:
        assert (store.serving, store.watcher is not None) == (watching, watching)
        assert store.poll_interval == float(settings["GRAVICORS_STORE_POLL_INTERVAL"])
    finally:
        store.close()


# (id, reader, settings, expected value or the E003 detail)
READS = [
    ("flag unset", lambda c: flag(c, "K"), {}, False),
    ("flag unset, no default", lambda c: flag(c, "K", None), {}, None),
    ("flag True", lambda c: flag(c, "K"), {"K": True}, True),
    ("flag 1.0", lambda c: flag(c, "K"), {"K": 1.0}, "1.0: True or False"),
    ("flag None given, default False", lambda c: flag(c, "K"), {"K": None}, "None: True or False"),
    ("number unset", lambda c: number(c, "K", 2, 1, 3), {}, 2.0),
    ("number int", lambda c: number(c, "K", 2, 1, 3), {"K": 3}, 3.0),
    ("number too low", lambda c: number(c, "K", 2, 1, 3), {"K": 0.5}, "0.5: a number of seconds, 1 to 3"),
    ("number nan", lambda c: number(c, "K", 2, 1, 3), {"K": float("nan")}, "nan: a number of seconds, 1 to 3"),
    ("text unset", lambda c: text(c, "K"), {}, None),
    ("text empty", lambda c: text(c, "K"), {"K": ""}, None),
    ("text bytes", lambda c: text(c, "K"), {"K": b"x"}, "b'x': a string"),
]  # fmt: skip


@pytest.mark.parametrize(("read", "config", "expected"), [pytest.param(*r[1:], id=r[0]) for r in READS])
def test_reading_a_setting(read: Any, config: dict[str, Any], expected: Any) -> None:
    if isinstance(expected, str):
        with pytest.raises(ConfigError) as refused:
            read(config)
        assert [(p.path, p.id) for p in refused.value.problems] == [("K", "gravicors.E003")]
        assert expected in str(refused.value)
    else:
        assert read(config) == expected

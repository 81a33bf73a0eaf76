"""``python -m sample_app``: the page on :5000 and the API on :5001, both on 127.0.0.1,
the console at http://127.0.0.1:5001/gravicors/ with a demo user whose random
password is printed at start (made anew at each start)."""

from __future__ import annotations

import logging
import os
import secrets
import threading

from flask import Flask
from werkzeug.serving import make_server

from .api import create_app
from .page import create_page_app

DEMO_USER = "demo"


def demo_user(app: Flask) -> str:
    """(Re)create the console's demo user (an admin) with a new random password."""
    accounts = app.extensions["gravicors"].store_for(app).accounts
    password = secrets.token_urlsafe(12)
    if accounts.get_user(DEMO_USER) is None:
        accounts.create_user(DEMO_USER, "admin", password)
    else:
        accounts.set_password(DEMO_USER, password)
    return password


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    host = "127.0.0.1"
    page_port = int(os.environ.get("GRAVICORS_SAMPLE_PAGE_PORT", "5000"))
    api_port = int(os.environ.get("GRAVICORS_SAMPLE_API_PORT", "5001"))
    app = create_app()
    password = demo_user(app)
    api = make_server(host, api_port, app, threaded=True)
    page = make_server(host, page_port, create_page_app(f"http://{host}:{api_port}"), threaded=True)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    print(f"page: http://{host}:{page_port}/   api: http://{host}:{api_port}/   (Ctrl-C stops both)", flush=True)
    print(f"console: http://{host}:{api_port}/gravicors/   user: {DEMO_USER}   password: {password}", flush=True)
    try:
        page.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api.shutdown()
        page.server_close()
        api.server_close()


if __name__ == "__main__":
    main()

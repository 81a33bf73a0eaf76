"""``python -m sample_app``: the page on :5000 and the API on :5001, both on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import threading

from werkzeug.serving import make_server

from .api import create_app
from .page import create_page_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    host = "127.0.0.1"
    page_port = int(os.environ.get("GRAVICORS_SAMPLE_PAGE_PORT", "5000"))
    api_port = int(os.environ.get("GRAVICORS_SAMPLE_API_PORT", "5001"))
    api = make_server(host, api_port, create_app(), threaded=True)
    page = make_server(host, page_port, create_page_app(f"http://{host}:{api_port}"), threaded=True)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    print(f"page: http://{host}:{page_port}/   api: http://{host}:{api_port}/   (Ctrl-C stops both)", flush=True)
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

"""The flask_gravicors demo: an API server and a page served from a second origin."""

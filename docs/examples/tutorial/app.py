from flask import Flask, request

from flask_gravicors import GraviCORS

app = Flask(__name__)
app.config["GRAVICORS"] = {
    "apis": [
        {
            "name": "orders",
            "context_path": "/orders",
            "cors": {
                "enabled": True,
                "allow_origin": ["http://localhost:8000"],
                "allow_methods": ["GET", "PUT"],
                "allow_headers": ["content-type"],
            },
        }
    ]
}
GraviCORS(app)

ORDERS = {1: {"id": 1, "status": "paid"}}


@app.get("/orders/<int:order_id>")
def get_order(order_id):
    return ORDERS[order_id]


@app.put("/orders/<int:order_id>")
def put_order(order_id):
    ORDERS[order_id] = {"id": order_id, **request.get_json()}
    return ORDERS[order_id]

"""A local stand-in for Shopify's Admin GraphQL endpoint (https://SHOP/admin/api/VERSION/graphql.json), so that
public Shopify MCP servers can be tested as they are, run as processes, with only the upstream API faked.

It answers the `orders`, `customers` and `products` connections of whatever query a server sends from
recorded Admin GraphQL objects, as the API would: edges with cursors, pageInfo, `first` and `after`
honoured, an orders search query's created_at bounds applied, and a nested connection's or list's
`(first: N)` in the query text honoured (lineItems(first: 10) gives at most ten line items). Each object
carries the fields the servers read (current totals, line totals, fulfillment status...), made from the
recorded ones. Every request (its query, variables and access token header) is logged, so a test can see
what the server really asked. HTTPS with a self-signed certificate made by openssl, which the test gives
Node.js in NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import subprocess
import threading
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, valid a day."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _money(amount: Decimal | str, currency: str) -> dict:
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency},
            "presentmentMoney": {"amount": str(amount), "currencyCode": currency}}


def _as_served(order: dict) -> dict:
    """A recorded order with the other fields the servers ask for."""
    order = copy.deepcopy(order)
    currency = order["totalPriceSet"]["shopMoney"]["currencyCode"]
    refunded = sum((Decimal(r["totalRefundedSet"]["shopMoney"]["amount"]) for r in order.get("refunds", [])),
                   Decimal("0.00"))
    total = Decimal(order["totalPriceSet"]["shopMoney"]["amount"])
    order.update({
        "currentTotalPriceSet": _money(total - refunded, currency),
        "currentSubtotalPriceSet": order["subtotalPriceSet"], "currentTotalTaxSet": order["totalTaxSet"],
        "currentTotalDiscountsSet": order["totalDiscountsSet"], "totalRefundedSet": _money(refunded, currency),
        "currencyCode": currency, "displayFulfillmentStatus": "FULFILLED",
        "tags": [], "note": None, "shippingAddress": None, "billingAddress": None, "processedAt": order["createdAt"],
        "updatedAt": order["createdAt"], "returns": {"edges": []}, "fulfillments": [], "metafields": {"edges": []},
    })
    for line in order["lineItems"]["nodes"]:
        unit, quantity = Decimal(line["originalUnitPriceSet"]["shopMoney"]["amount"]), int(line["quantity"])
        discount = Decimal(line["totalDiscountSet"]["shopMoney"]["amount"])
        line.update({"originalTotalSet": _money(unit * quantity, currency),
                     "discountedTotalSet": _money(unit * quantity - discount, currency),
                     "name": line["title"], "currentQuantity": quantity, "vendor": None, "variantTitle": None})
    return order


class AdminApi:
    """The fake endpoint: start() serves on 127.0.0.1 until stop(); `requests` logs what it was sent."""

    def __init__(self, objects: dict[str, list[dict]], folder: Path):
        self.objects = {"orders": [_as_served(o) for o in objects["orders"]], "customers": objects["customers"],
                        "products": objects["products"]}
        self.requests: list[dict] = []
        self.cert, key = self_signed_certificate(folder)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> AdminApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, query: str, variables: dict) -> dict:
        for kind in ("orders", "customers", "products"):
            if re.search(rf"\b{kind}\s*\(", query):
                return {"data": {kind: self._connection(kind, query, variables)}}
        return {"errors": [{"message": "the fake Admin API answers orders, customers and products only"}]}

    def _connection(self, kind: str, query: str, variables: dict) -> dict:
        records = self.objects[kind]
        if kind == "orders":
            low = re.search(r"created_at:>=(\S+)", variables.get("query") or "")
            high = re.search(r"created_at:<=(\S+)", variables.get("query") or "")
            records = [o for o in records if (not low or _instant(o["createdAt"]) >= _instant(low[1]))
                       and (not high or _instant(o["createdAt"]) <= _instant(high[1]))]
        start = int(variables["after"].split(":")[1]) if variables.get("after") else 0
        chunk = records[start:start + int(variables.get("first") or 10)]
        end = start + len(chunk)
        edges = [{"cursor": f"at:{start + i + 1}", "node": _capped(node, query)} for i, node in enumerate(chunk)]
        return {"edges": edges,
                "pageInfo": {"hasNextPage": end < len(records), "hasPreviousPage": start > 0,
                             "startCursor": f"at:{start + 1}" if chunk else None, "endCursor": f"at:{end}"}}

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                api.requests.append({"path": self.path, "token": self.headers.get("X-Shopify-Access-Token"),
                                     "query": body.get("query", ""), "variables": body.get("variables") or {}})
                answer = json.dumps(api.answer(body.get("query", ""), body.get("variables") or {})).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        return Handler


def _capped(node: dict, query: str) -> dict:
    """A node as the API serves it to `query`: its connections as edges, capped where the query caps them."""
    node = copy.deepcopy(node)
    for field in ("lineItems", "variants"):
        if isinstance(node.get(field), dict):
            cap = re.search(rf"\b{field}\s*\(\s*first:\s*(\d+)", query)
            items = node[field]["nodes"][:int(cap[1])] if cap else node[field]["nodes"]
            node[field] = {"edges": [{"node": item} for item in items], "nodes": items}
    cap = re.search(r"\brefunds\s*\(\s*first:\s*(\d+)", query)
    if cap and isinstance(node.get("refunds"), list):
        node["refunds"] = node["refunds"][:int(cap[1])]
    return node

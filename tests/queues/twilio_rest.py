"""A stand-in for Twilio's Queue REST resource: a twilio.http.HttpClient answering
Twilio-shaped JSON from an in-memory dict, or a Twilio error when told to fail."""

import json
import logging
import re

from twilio.http import HttpClient
from twilio.http.response import Response

QUEUES = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Queues(?:/(QU\w+))?\.json$")


class FakeQueueApi(HttpClient):
    def __init__(self):
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.queues: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.fail_with: tuple[int, int, str] | None = None  # (HTTP status, Twilio code, message)

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append((method, uri, dict(data or {})))
        if self.fail_with:
            status, code, message = self.fail_with
            return self._json(
                status,
                {
                    "code": code,
                    "message": message,
                    "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                },
            )
        match = QUEUES.search(uri)
        if not match:
            return self._json(404, {"code": 20404, "message": "not found", "status": 404})
        account, sid = match.groups()
        if method == "POST" and sid is None:
            sid = f"QU{len(self.queues) + 1:032x}"
            self.queues[sid] = {
                "sid": sid,
                "account_sid": account,
                "current_size": 0,
                "average_wait_time": 0,
                "friendly_name": data["FriendlyName"],
                "max_size": int(data.get("MaxSize", 1000)),
            }
            return self._json(201, self.queues[sid])
        if sid not in self.queues:
            return self._json(
                404, {"code": 20404, "message": f"Queue {sid} not found", "status": 404}
            )
        if method == "POST":
            if "FriendlyName" in data:
                self.queues[sid]["friendly_name"] = data["FriendlyName"]
            if "MaxSize" in data:
                self.queues[sid]["max_size"] = int(data["MaxSize"])
            return self._json(200, self.queues[sid])
        if method == "DELETE":
            del self.queues[sid]
            return Response(204, "")
        return self._json(200, self.queues[sid])

    @staticmethod
    def _json(status, payload):
        return Response(status, json.dumps(payload))

"""One keep-alive HTTP connection to the server, standard library only."""

import http.client
import json
import urllib.parse


class Unreachable(Exception):
    """The request got no answer: connection refused or reset, a timeout. Worth retrying."""


class Http:
    def __init__(self, url, token=None, timeout=5.0):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("losswatch: the server's url must be http://host:port or https://host:port, not %r"
                             % (url,))
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": "losswatch-python"}
        if token:
            self._headers["Authorization"] = "Bearer " + token
        self._conn = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout)

    def request(self, method, path, body=None):
        """Returns ``(status, parsed JSON answer or None)``; raises Unreachable when no answer came."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._conn.request(method, self._prefix + path, body=body, headers=self._headers)
            resp = self._conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Unreachable("%s %s: %s" % (method, self.url + path, e or type(e).__name__)) from e
        if resp.will_close:
            self.close()
        try:
            answer = json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            answer = {"error": data[:200].decode("utf-8", "replace")}
        return resp.status, answer

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

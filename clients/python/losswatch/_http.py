"""Keep-alive HTTP connections to the server's nodes, standard library only."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.parse
from typing import Any, List, Optional, Sequence, Tuple, Union

log = logging.getLogger("losswatch")

# answers that say the node cannot serve the run now (404: it does not know it, 502/504: it cannot reach the
# node that owns it, 503: busy), as against answers about the request itself
NODE_TROUBLE = (404, 502, 503, 504)

# a connection unused this long is opened afresh: the server closes one idle for 60 s (proxies often sooner), and a
# request sent that instant would meet the close
IDLE_REOPEN_S = 30.0


class Unreachable(Exception):
    """The request got no answer: connection refused or reset, a timeout. Worth retrying."""


class Http:
    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 5.0) -> None:
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
        self._conn: Optional[http.client.HTTPConnection] = None
        self._used = 0.0

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=self._timeout)

    def request(self, method: str, path: str, body: Optional[bytes] = None) -> Tuple[int, Any]:
        """Returns ``(status, parsed JSON answer or None)``; raises Unreachable when no answer came."""
        if self._conn is not None and time.monotonic() - self._used > IDLE_REOPEN_S:
            self.close()
        while True:
            reused = self._conn is not None
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request(method, self._prefix + path, body=body, headers=self._headers)
                resp = self._conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException) as e:
                self.close()
                # a kept-alive connection the server had closed takes nothing: sent again once on a new one
                if reused and isinstance(e, (ConnectionResetError, BrokenPipeError)):   # RemoteDisconnected is one
                    continue
                raise Unreachable("%s %s: %s" % (method, self.url + path, e or type(e).__name__)) from e
        self._used = time.monotonic()
        if resp.will_close:
            self.close()
        try:
            answer = json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            answer = {"error": data[:200].decode("utf-8", "replace")}
        return resp.status, answer

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def node_urls(url: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """The node URLs ``url`` names: one URL, several separated by commas, or a list or tuple of them. Returns a
    tuple of distinct URLs without a trailing slash, in the order given."""
    if isinstance(url, str):
        items = [url]
    elif isinstance(url, (list, tuple)):
        items = list(url)
    else:
        raise TypeError("losswatch: url must be a string or a list of strings, not %r" % (url,))
    urls: List[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError("losswatch: a node's url must be a string, not %r" % (item,))
        for u in item.split(","):
            u = u.strip().rstrip("/")
            if u and u not in urls:
                urls.append(u)
    if not urls:
        raise ValueError("losswatch: no server url in %r" % (url,))
    return tuple(urls)


class Nodes:
    """The server's nodes, one keep-alive connection each, used one at a time: requests go to the current node
    until the caller says it failed (``fail_over``), then to the next one, round-robin."""

    def __init__(self, urls: Sequence[str], token: Optional[str] = None, timeout: float = 5.0,
                 quiet: bool = False) -> None:
        self.nodes = [Http(u, token, timeout) for u in urls]
        self.urls = tuple(n.url for n in self.nodes)
        self.index = 0
        self.quiet = quiet
        self._failed = 0   # nodes that failed in a row since one last answered
        self._all_down = False   # a full round failed: failovers are logged at debug level until one answers

    @property
    def url(self) -> str:
        """The node in use."""
        return self.nodes[self.index].url

    def request(self, method: str, path: str, body: Optional[bytes] = None) -> Tuple[int, Any]:
        """The current node's ``Http.request``. An answer other than 404, 502, 503 or 504 counts as the node
        answering (the next failure starts a new round)."""
        status, answer = self.nodes[self.index].request(method, path, body)
        if status not in NODE_TROUBLE:
            self._failed = 0
            if self._all_down:
                self._all_down = False
                self._log(logging.INFO, "losswatch: node %s answers; the run goes on there", self.url,
                          extra={"to_url": self.url})
        return status, answer

    def placed(self, created: Any) -> None:
        """A cluster may create a run on a less busy node than the one asked (``created``, the answer, names it in
        ``node.url``): when that node is one of ours, the run's requests go straight to it from now on. Otherwise
        they keep going to the node asked, which passes appends and commands on to the run's node."""
        node = created.get("node") if isinstance(created, dict) else None
        url = node.get("url") if isinstance(node, dict) else None
        if not isinstance(url, str):
            return
        url = url.rstrip("/")
        for i, n in enumerate(self.nodes):
            if n.url == url and i != self.index:
                self._log(logging.INFO, "losswatch: the cluster placed the run on %s; it talks to that node now", url,
                          extra={"from_url": self.url, "to_url": url})
                self.index = i
                self._failed = 0
                return

    def fail_over(self, why: str, run_id: Optional[str] = None) -> bool:
        """The current node failed (``why``): moves on to the next one, and logs it at warning level (at debug
        level once a full round failed, until a node answers again: no warning every 2 s while the whole
        cluster is down). Returns True once every node failed in a row: a full round, time to back off."""
        old = self.nodes[self.index]
        old.close()
        self.index = (self.index + 1) % len(self.nodes)
        self._failed += 1
        if len(self.nodes) > 1:
            self._log(logging.DEBUG if self._all_down else logging.WARNING,
                      "losswatch: node %s failed (%s); %s goes to %s now", old.url, why,
                      "run %s" % run_id if run_id else "the run", self.url,
                      extra={"from_url": old.url, "to_url": self.url, "run_id": run_id})
        if self._failed >= len(self.nodes):
            self._failed = 0
            if len(self.nodes) > 1 and not self._all_down:
                self._all_down = True
                self._log(logging.WARNING, "losswatch: no node answers (%s); trying them in turn until one does",
                          ", ".join(self.urls))
            return True
        return False

    def _log(self, level: int, *args: Any, **kwargs: Any) -> None:
        """Logs to the ``losswatch`` logger; with ``quiet``, only where logging was set up (Python's last resort
        handler would print it on stderr)."""
        if not self.quiet or log.hasHandlers():
            log.log(level, *args, **kwargs)

    def close(self) -> None:
        for n in self.nodes:
            n.close()

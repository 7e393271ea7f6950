"""The keep-alive connection: a server that closed it while idle costs no warning, no retry delay, no duplicate."""

from __future__ import annotations

import os
import socket
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from losswatch import _http  # noqa: E402


class ClosesAfterEachAnswer(BaseHTTPRequestHandler):
    """Answers keep-alive, then closes the connection without saying so (as an idle timeout does, between requests)."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ClosesAfterEachAnswer.seen.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


class StaleConnectionTest(unittest.TestCase):
    def setUp(self) -> None:
        ClosesAfterEachAnswer.seen = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), ClosesAfterEachAnswer)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.http = _http.Http("http://127.0.0.1:%d" % self.server.server_address[1])

    def tearDown(self) -> None:
        self.http.close()
        self.server.shutdown()
        self.server.server_close()

    def test_a_request_on_a_connection_the_server_closed_goes_out_once_on_a_new_one(self) -> None:
        for i in range(3):
            status, _ = self.http.request("POST", "/api/runs/r1/steps", b'{"step":[%d]}' % (i + 1))
            self.assertEqual(200, status)
        self.assertEqual([b'{"step":[1]}', b'{"step":[2]}', b'{"step":[3]}'], ClosesAfterEachAnswer.seen)

    def test_a_connection_idle_for_long_is_opened_afresh_before_it_is_used(self) -> None:
        self.http.request("POST", "/a", b"1")
        first = self.http._conn
        self.http._used -= _http.IDLE_REOPEN_S + 1
        self.http.request("POST", "/b", b"2")
        self.assertIsNot(first, self.http._conn)


if __name__ == "__main__":
    unittest.main()

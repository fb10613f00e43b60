"""What the local HTTP servers' request handlers share: quiet, HTTP/1.1, every method to one
``serve``, the body read by its length, an answer written in one place."""

from __future__ import annotations

from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any


class LocalHandler(BaseHTTPRequestHandler):
    """A keep-alive handler that sends GET, POST and PUT to ``serve`` and logs nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests assert on what was asked
        pass

    def do_GET(self) -> None:
        self.serve()

    def do_POST(self) -> None:
        self.serve()

    def do_PUT(self) -> None:
        self.serve()

    def serve(self) -> None:
        """Answer the request in hand."""
        raise NotImplementedError

    def read_body(self) -> bytes:
        """The request body (``b""`` without one)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status: int, content_type: str, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Send one response; a client that gave up (its timeout ran out) just closes the connection."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

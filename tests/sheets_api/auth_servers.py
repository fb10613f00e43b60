"""Local stand-ins for Google's keyless sign-in endpoints, for tests (127.0.0.1 only).

One HTTP server answers as:

- the GCE/GKE/Cloud Run **metadata server** (google-auth finds it through
  ``GCE_METADATA_HOST``/``GCE_METADATA_IP``): the attached service account's
  email and access tokens, only with the ``Metadata-Flavor: Google`` header;
- the **STS token exchange** of workload identity federation (``/v1/token``):
  an OIDC subject token from an ``external_account`` file becomes an access token;
- the **IAM Credentials API** (``generateAccessToken``): a caller's token becomes a
  token of the service account it impersonates, if it is allowed to.

Every token comes from ``FakeSheetsServer.issue_token``, so the Sheets server
(with ``require_auth``) accepts exactly what these paths produce.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.sheets_api.handler import LocalHandler
from tests.sheets_api.server import FakeSheetsServer

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
_GENERATE = re.compile(r"^/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken$")


@dataclass
class KeylessAuthServer:
    """Metadata server, STS and IAM Credentials on one local port; see the module docstring."""

    sheets: FakeSheetsServer
    vm_account: str = "vm-runner@test-project.iam.gserviceaccount.com"
    """The service account attached to the (pretend) VM."""
    subject_token: str = "oidc-subject-token-from-the-ci-provider"
    """The only subject token STS exchanges (what the external_account file's source holds)."""
    federated_principal: str = "principal://iam.googleapis.com/projects/1/subject/ci"
    may_impersonate: dict[str, set[str]] = field(default_factory=dict)
    """Caller (email or principal) → service accounts it holds Token Creator on."""
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(what, detail) for every request: ``metadata``, ``sts``, ``iam``."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.app = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="keyless-auth")

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: the value for ``GCE_METADATA_HOST`` and ``GCE_METADATA_IP``."""
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}"

    def start(self) -> KeylessAuthServer:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def record(self, what: str, detail: str) -> None:
        """Note one request."""
        with self._lock:
            self.calls.append((what, detail))

    # --- answers ---------------------------------------------------------------

    def metadata(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> tuple[int, Any]:
        """The metadata server: only for requests that say ``Metadata-Flavor: Google``."""
        self.record("metadata", path)
        if headers.get("metadata-flavor") != "Google":
            return 403, "Missing Metadata-Flavor:Google header."
        if path in ("", "/"):
            return 200, ""
        base = "/computeMetadata/v1/"
        rest = path.removeprefix(base)
        if rest == "project/project-id":
            return 200, "test-project"
        if rest in ("instance/service-accounts/default/", "instance/service-accounts/default"):
            return 200, {"aliases": ["default"], "email": self.vm_account,
                         "scopes": ["https://www.googleapis.com/auth/cloud-platform"]}
        if rest == "instance/service-accounts/default/token":
            scopes = query.get("scopes", [""])[0].split(",") if query.get("scopes") else ["cloud-platform"]
            return 200, self.sheets.issue_token(self.vm_account, scopes)
        return 404, "Not Found"

    def sts(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        """Workload identity federation's token exchange (RFC 8693)."""
        fields = {k: v[0] for k, v in form.items()}
        self.record("sts", fields.get("audience", ""))
        if fields.get("grant_type") != TOKEN_EXCHANGE:
            return 400, {"error": "invalid_request", "error_description": "Invalid grant_type."}
        if fields.get("subject_token") != self.subject_token:
            return 400, {"error": "invalid_grant", "error_description": "The ID Token provided is invalid."}
        token = self.sheets.issue_token(self.federated_principal, fields.get("scope", "").split())
        return 200, {"access_token": token["access_token"], "expires_in": 3600, "token_type": "Bearer",
                     "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}

    def generate_access_token(self, target: str, body: Any, authorization: str) -> tuple[int, Any]:
        """IAM Credentials ``generateAccessToken``: the caller must hold Token Creator on ``target``."""
        self.record("iam", target)
        token = authorization.removeprefix("Bearer ").strip()
        caller = self.sheets.token_email(token)
        if caller is None:
            return 401, _google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        if target not in self.may_impersonate.get(caller, set()):
            return 403, _google_error(403, "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                                           "(or it may not exist).", "PERMISSION_DENIED")
        scopes = body.get("scope", []) if isinstance(body, dict) else []
        issued = self.sheets.issue_token(target, scopes)
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {"accessToken": issued["access_token"], "expireTime": expires}


def _google_error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


class _Handler(LocalHandler):
    def serve(self) -> None:
        app: KeylessAuthServer = self.server.app  # type: ignore[attr-defined]
        raw = self.read_body()
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(parts.query)
        if parts.path == "/" or parts.path.startswith("/computeMetadata/"):
            status, payload = app.metadata(parts.path, query, headers)
        elif parts.path == "/v1/token" and self.command == "POST":
            status, payload = app.sts(parse_qs(raw.decode()))
        elif (match := _GENERATE.match(parts.path)) and self.command == "POST":
            body = json.loads(raw or b"{}")
            status, payload = app.generate_access_token(unquote(match.group(1)), body,
                                                        headers.get("authorization", ""))
        else:
            status, payload = 404, "Not Found"
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.answer(status, "text/plain" if isinstance(payload, str) else "application/json", data,
                    {"Metadata-Flavor": "Google"})

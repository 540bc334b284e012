"""Security headers on every response: nosniff, no framing, a strict CSP."""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from stonkmarket.interfaces.http.docs import SCHEMA_PATH

# JSON responses load no resources and must not be framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

# The Swagger UI page loads its script and styles from jsDelivr and starts them
# with an inline script.
DOCS_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://cdn.jsdelivr.net; "
    "connect-src 'self'; frame-ancestors 'none'"
)

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def security_headers(*, hsts: bool) -> BeforeMessageSendHookHandler:
    """Return a before-send hook that adds the headers to every response.

    Unrouted responses such as 404s get them too. The app passes `hsts=True`
    only in production, where TLS is expected.
    """
    extra = [*COMMON_HEADERS, HSTS] if hsts else COMMON_HEADERS

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        on_docs = scope["path"].startswith(SCHEMA_PATH)
        policy = (DOCS_POLICY if on_docs else API_POLICY).encode()
        headers = list(message.get("headers", []))
        headers += [*extra, (b"content-security-policy", policy)]
        message["headers"] = headers

    return add_headers

"""Response headers: what every answer carries, and what only a refusal may."""
from flask import request

# The HTML pages the service renders (a code's landing page, its poster): inline styles and
# inline SVG only, nothing loaded, never framed.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")


# The web app's pages (ecolife/web): its own stylesheet and scripts only (no inline script or
# style, no other site), images of its own or inline SVG (a voucher's QR), forms posted to
# itself, and never framed (no clickjacking of the collect or redeem buttons).
WEB_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def add_security_headers(response):
    """Nothing sniffed; nothing a bearer token unlocks, and no token, kept by a cache."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # RFC 6749 5.1 for token responses; the same for anything personal (/me, the ledger).
    # A view that chose its own Cache-Control (the docs' assets, a voucher QR) keeps it.
    personal = "Authorization" in request.headers or request.path.startswith("/api/v1/auth/")
    if personal and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def retry_after_only_when_refused(response):
    """Flask-Limiter puts Retry-After on every response of a limited route, a 200 included;
    it means "wait before retrying", so only a 429 or a 503 keeps it.

    Registered before ``limiter.init_app``: Flask runs after_request functions last-registered
    first, so this one sees the limiter's headers.
    """
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    elif response.status_code == 429:
        # The header says what the body's retry_after says: the limiter rounds its own wait
        # down (in a limit's last second, "0": a client retrying at once is refused again).
        body = response.get_json(silent=True)
        wait = body.get("retry_after") if isinstance(body, dict) else None
        if isinstance(wait, int) and wait > 0:
            response.headers["Retry-After"] = str(wait)
    return response

"""The few HTML pages the simulator shows to a browser."""

from __future__ import annotations

from html import escape

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f2f4f7; margin: 0; }
main { max-width: 24rem; margin: 4rem auto; background: #fff; padding: 2rem;
       border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
p.sub { color: #555; margin: 0 0 1.5rem; font-size: .9rem; }
label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
input[type=email], input[type=password] { width: 100%; box-sizing: border-box;
       padding: .5rem; font-size: 1rem; }
button { margin-top: 1.5rem; width: 100%; padding: .6rem; font-size: 1rem; }
.error { background: #fde8e8; color: #9b1c1c; padding: .6rem; border-radius: 4px; }
footer { color: #888; font-size: .75rem; margin-top: 1.5rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n"
        "<footer>Identity provider simulator &mdash; test accounts only.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def login_page(
    *,
    tenant_title: str,
    client_id: str,
    packed_request: str,
    email: str = "",
    error: str | None = None,
) -> str:
    """The sign-in form. Posts back to ``authorize`` (relative to the issuer)."""
    error_html = f'<p class="error" role="alert">{escape(error)}</p>\n' if error else ""
    body = (
        f"<h1>{escape(tenant_title)}</h1>\n"
        f'<p class="sub">Sign in to continue to <strong>{escape(client_id)}</strong></p>\n'
        f"{error_html}"
        '<form id="idp-login" method="post" action="authorize">\n'
        f'<input type="hidden" name="request" value="{escape(packed_request)}">\n'
        '<label for="email">Email</label>\n'
        f'<input id="email" name="email" type="email" autocomplete="username" value="{escape(email)}" required>\n'
        '<label for="password">Password</label>\n'
        '<input id="password" name="password" type="password" autocomplete="current-password" required>\n'
        '<button type="submit">Sign in</button>\n'
        "</form>"
    )
    return _page(f"Sign in - {tenant_title}", body)


def error_page(*, tenant_title: str, message: str) -> str:
    """Shown when the request must not be redirected back to the client."""
    body = (
        f"<h1>{escape(tenant_title)}</h1>\n"
        '<p class="error" role="alert">Sign-in request rejected</p>\n'
        f'<p id="error-description">{escape(message)}</p>'
    )
    return _page(f"Error - {tenant_title}", body)


def signed_out_page(*, tenant_title: str) -> str:
    body = f"<h1>{escape(tenant_title)}</h1>\n<p>You have been signed out.</p>"
    return _page(f"Signed out - {tenant_title}", body)

"""The thin ASGI layer: Starlette routes, cookies, security headers, templates, and the one
place where an OAuth error becomes JSON, a redirect or an HTML page."""

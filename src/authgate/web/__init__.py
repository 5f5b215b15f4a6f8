"""The thin ASGI layer: the route table (``routes``), the one dispatcher that serves it
(``dispatch``), request reading (``request``), the renderer of each channel (``render``: the one
place where a result or an OAuth error becomes JSON, a redirect or an HTML page), security
headers, templates and static files."""

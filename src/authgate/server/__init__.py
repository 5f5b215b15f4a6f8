"""Async use cases, one module per endpoint: ``HttpRequest`` in, a response value out. The
token endpoint's grants have a package of their own (``server/grants/``, one module each), and
what they issue is minted by ``issuance`` and ``access_tokens``.

No web framework here: the web layer converts requests and renders responses.
"""

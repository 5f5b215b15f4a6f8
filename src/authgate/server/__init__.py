"""Async use cases, one module per endpoint: ``HttpRequest`` in, a response value out.

No web framework here: the web layer converts requests and renders responses.
"""

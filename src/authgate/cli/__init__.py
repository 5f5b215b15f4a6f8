"""The ``authgate`` command line."""

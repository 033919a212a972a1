"""Provides the pure core of workshop: agenda, state, protocol, rules and exporters.

Nothing in this package opens a socket, a file or a database, or reads a clock it was
not handed; the server and the clients both build on it.
"""

__version__ = "0.1.0"

"""Provides the ``workshop`` command: the composition root that wires server, clients and the core.

It is the only package that may import ``server`` and ``client`` together; ``workshop/`` (the
pure core), ``server/`` and ``client/`` never import it.
"""

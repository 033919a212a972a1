"""Provides the doors: ways to join a workshop with nothing installed, in front of the same participant app.

``doors.ssh`` lets anyone with an ``ssh`` client in (the join code is the user name); ``doors.web``
serves the app to a browser. Neither reimplements anything: each runs ``workshop join`` for its
visitor, on a pseudo-terminal (SSH) or under textual-serve (web), against the server's own
websocket, and checks join codes with the server's own gate and rate limits.
"""

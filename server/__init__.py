"""Provides the workshop server: sockets, roles, the event log and fan-out."""

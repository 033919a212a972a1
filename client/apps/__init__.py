"""Provides the Textual apps: the facilitator's host app and the participant app."""

"""Provides the client side: the connection layer and the two Textual apps."""

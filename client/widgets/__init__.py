"""Provides the widgets and text helpers the workshop apps share."""

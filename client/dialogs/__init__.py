"""Provides the modal dialogs of the workshop apps (each a ``ModalScreen[T]``)."""

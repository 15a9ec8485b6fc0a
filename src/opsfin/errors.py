"""Errors meant for the person at the keyboard. The CLI prints them in one line, exit code 2."""


class UserError(Exception):
    """A mistake in what the user asked or supplied (missing file, unknown table...)."""

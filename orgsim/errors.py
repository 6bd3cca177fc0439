"""Errors that the command line reports as one line and exit code 2."""


class OrgsimError(Exception):
    """Bad input from a user: a scenario file, a parameter, a results folder.

    The message is complete on its own (it names the file, the key and what is allowed), so
    the command line prints it as a single line without a traceback.
    """

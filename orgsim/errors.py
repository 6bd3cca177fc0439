"""Errors that the command line reports as one line and exit code 2."""


class OrgsimError(Exception):
    """Bad input from a user: a scenario file, a parameter, a results folder.

    The message is complete on its own (it names the file, the key and what is allowed), so
    the command line prints it as a single line without a traceback.
    """


def describe_validation_error(err, source: str = "") -> str:
    """One line from a pydantic ``ValidationError``: where, what is wrong, and what was given.

    ``source`` (a file name, say) is put in front. Only the first problem is described in full;
    the count of any others follows.
    """
    problems = err.errors()
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        what = "unknown key"
    else:
        what = first["msg"][0].lower() + first["msg"][1:]
        what = what.removeprefix("value error, ")
        if "input" in first and not isinstance(first["input"], dict):
            what += f" (got {first['input']!r})"
    extra = len(problems) - 1
    more = f" (+{extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    prefix = f"{source}: " if source else ""
    return f"{prefix}{where}: {what}{more}"

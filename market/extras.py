"""Optional parts of the install: a setting that needs one says which extra to install."""

import importlib.util


class MissingExtra(RuntimeError):
    pass


def require_extra(module: str, extra: str, setting: str) -> None:
    """Fail at start-up, naming the pip command, when ``setting`` needs a module not installed."""
    if importlib.util.find_spec(module) is None:
        raise MissingExtra(
            f"{setting} needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 'pasar[{extra}]'"
        )

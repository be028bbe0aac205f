"""`ToolError`: what a failed tool call raises in agent code."""

from wit_world.imports import types as host_types

# The host's tool-error variant cases, by the kind agent code sees.
_KINDS = {
    host_types.ToolError_NotFound: "not-found",
    host_types.ToolError_Denied: "denied",
    host_types.ToolError_InvalidArguments: "invalid-arguments",
    host_types.ToolError_Failed: "failed",
    host_types.ToolError_Unavailable: "unavailable",
}


class ToolError(Exception):
    """A tool call failed.

    `kind` is one of not-found, denied, invalid-arguments, failed,
    unavailable; `server` and `tool` name the call; `message` says why.
    """

    def __init__(self, kind, message, server=None, tool=None):
        self.kind = kind
        self.message = message
        self.server = server
        self.tool = tool
        what = f"{server}.{tool}" if tool else (server or "tool")
        super().__init__(f"{what} failed ({kind}): {message}")

    @classmethod
    def from_host(cls, error, server, tool=None):
        """The exception for the host's `tool-error` value."""
        return cls(_KINDS.get(type(error), "failed"), error.value, server, tool)


ToolError.__module__ = "airlock"


def tool_error_kind(error):
    """The kind of a tool error, or None for any other exception (`e.kind`
    says the same; this stays for code written for the Monty guest)."""
    return error.kind if isinstance(error, ToolError) else None

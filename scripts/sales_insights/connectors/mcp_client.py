"""Calling an MCP server's tools over the MCP protocol (the official `mcp` SDK), as the connectors need it:
one session per extract, JSON results, retries with backoff on transient errors, and errors a user can act
on (unreachable, refused credentials, a response that does not have the expected shape).

A server is started as a subprocess speaking stdio (SALES_INSIGHTS_MCP_<NAME>_COMMAND) or reached over
streamable HTTP (SALES_INSIGHTS_MCP_<NAME>_URL, with SALES_INSIGHTS_MCP_<NAME>_TOKEN sent as a bearer token).
Credentials come only from the environment and are never written to a message or a log: every message
built here passes through `ServerSpec.redact`."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import anyio

from sales_insights.config import mcp_server_variables, mcp_token_variable
from sales_insights.errors import SalesInsightsError

T = TypeVar("T")
# A paging loop stops with an error beyond this many pages of one tool (a server whose paging never ends).
MAX_PAGES = 100_000

# What a tool error says when the call may work if tried again, and when the credentials were refused. MCP
# servers pass on the wrapped API's error text: Google's and Shopify's start with the HTTP status or give
# the gRPC code. A bare number elsewhere in a message ("offset 403", "order 500") decides nothing.
_STATUS = r"(?:^|\b(?:http|status|code)[ :=]*)"
_TRANSIENT = re.compile(
    _STATUS + r"(?:429|500|502|503|504)\b|\b(?:unavailable|resource[_ ]exhausted|deadline[_ ]exceeded|timed out|"
    r"timeout|temporarily|rate[- ]limit(?:ed)?|throttled|try again)\b", re.I)
_AUTH = re.compile(
    _STATUS + r"(?:401|403)\b|\b(?:unauthenticated|unauthori[sz]ed|permission[_ ]denied|forbidden|access[_ ]denied|"
    r"invalid[_ ](?:api[_ ]key|credentials?|token|grant)|expired[_ ]token)\b", re.I)
_SDK_PREFIX = re.compile(r"^Error executing tool \S+: ")
_SECRET_NAME = re.compile(r"token|secret|key|pass|auth|credential|cookie|session|bearer", re.I)


def _message(text: str) -> str:
    """A tool error's own text, without the SDK's "Error executing tool X: " in front."""
    return _SDK_PREFIX.sub("", text.strip())


class McpError(SalesInsightsError):
    """A connector could not get its data; the message says from which server and tool, and why."""


class McpUnreachable(McpError):
    pass


class McpAuthError(McpError):
    pass


class McpSchemaError(McpError):
    pass


class McpToolError(McpError):
    pass


@dataclass(frozen=True)
class ServerSpec:
    """How to reach one connector's MCP server; `secrets` are the values never to show."""

    connector: str
    command: tuple[str, ...] = field(default=(), repr=False)
    url: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that may be a credential: the token, secret-looking variables of the server's
        environment, the URL's user, password and query values, and the command's options after the
        program (`--token X`, `--api-key=X`, `KEY=X`)."""
        values = [self.token or ""]
        values += [v for k, v in self.env.items() if _SECRET_NAME.search(k)]
        if self.url:
            parts = urlsplit(self.url)
            values += [parts.username or "", parts.password or ""] + [v for _, v in parse_qsl(parts.query)]
        args = list(self.command[1:])
        for i, arg in enumerate(args):
            name, eq, value = arg.partition("=")
            if eq and _SECRET_NAME.search(name):
                values.append(value)
            elif arg.startswith("-") and _SECRET_NAME.search(arg) and i + 1 < len(args):
                values.append(args[i + 1])
        # Longest first, so that a secret containing another is hidden whole.
        return tuple(sorted({v for v in values if len(v) >= 4}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def describe(self) -> str:
        """Where the server is, without credentials: the command's program or the URL without user and query."""
        if self.url:
            parts = urlsplit(self.url)
            host = parts.hostname or ""
            netloc = host + (f":{parts.port}" if parts.port else "")
            return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        return f"`{os.path.basename(self.command[0])}` (stdio)" if self.command else "(not configured)"


def server_spec(connector: str, env: Mapping[str, str] | None = None) -> ServerSpec | None:
    """The connector's server from SALES_INSIGHTS_MCP_<CONNECTOR>_{COMMAND,URL,TOKEN}; None if neither is set."""
    env = os.environ if env is None else env
    command_variable, url_variable = mcp_server_variables(connector)
    command, url = env.get(command_variable, "").strip(), env.get(url_variable, "").strip()
    if not command and not url:
        return None
    if command and url:
        raise McpError(f"{command_variable} and {url_variable} are both set: set one (a stdio command or an HTTP "
                       "URL)")
    return ServerSpec(connector, tuple(shlex.split(command)), url or None,
                      env.get(mcp_token_variable(connector)) or None,
                      dict(os.environ) if env is os.environ else dict(env))


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per call and exponential backoff with full jitter: the n-th wait is uniform in
    [0, min(max_delay, base_delay * 2**n)]."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt))


def _error_text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in (result.content or [])).strip() or "(no message)"


def _json_of(result) -> Any:
    """A tool result as JSON: its structured content, or the JSON text of its first text block."""
    structured = getattr(result, "structured_content", None)
    if isinstance(structured, dict) and set(structured) != {"result"}:
        return structured
    if isinstance(structured, dict) and not isinstance(structured.get("result"), str):
        return structured["result"]
    texts = [getattr(c, "text", None) for c in (result.content or [])]
    texts = [t for t in texts if t is not None]
    if not texts:
        raise ValueError("the result has no text content")
    return json.loads(texts[0])


class ToolSession:
    """An open MCP session with one server; `call` returns a tool's JSON result."""

    def __init__(self, spec: ServerSpec, client, retry: RetryPolicy, sleep: Callable[[float], Awaitable[None]],
                 seed: int = 0, http_statuses: list[int] | None = None, counts: dict[str, int] | None = None):
        self.spec, self._client, self.retry, self._sleep = spec, client, retry, sleep
        self._rng = random.Random(seed)
        # calls and retries, kept across the sessions of one run_session (a reconnect starts a new one)
        self._counts = counts if counts is not None else {"calls": 0, "retries": 0}
        # HTTP statuses of the session's responses (streamable HTTP), newest last: the SDK's own error for
        # a failed request does not say which status it got.
        self._statuses = http_statuses if http_statuses is not None else []

    def _where(self, tool: str) -> str:
        return f"the {self.spec.connector} MCP server at {self.spec.describe()} (tool {tool})"

    async def require_tools(self, names: tuple[str, ...]) -> list[str]:
        """The server's tool names; a McpSchemaError when one of `names` is not among them."""
        listed = await self._client.list_tools()
        tools = sorted(t.name for t in listed.tools)
        missing = [n for n in names if n not in tools]
        if missing:
            raise McpSchemaError(self.spec.redact(
                f"the {self.spec.connector} MCP server at {self.spec.describe()} has no tool {', '.join(missing)} "
                f"(it has: {', '.join(tools) or 'none'})"))
        return tools

    @property
    def calls(self) -> int:
        return self._counts["calls"]

    @property
    def retries(self) -> int:
        return self._counts["retries"]

    async def call(self, tool: str, arguments: dict) -> Any:
        last = ""
        for attempt in range(self.retry.attempts):
            self._counts["calls"] += 1
            seen = len(self._statuses)
            try:
                result = await self._client.call_tool(tool, arguments)
            except Exception as exc:  # the transport failed mid-session: the server went away or timed out
                statuses = self._statuses[seen:]
                last = f"{type(exc).__name__}: {exc}" + (f" (HTTP {statuses[-1]})" if statuses else "")
                if statuses and statuses[-1] in (401, 403):
                    raise McpAuthError(self.spec.redact(
                        f"{self._where(tool)} refused the credentials (HTTP {statuses[-1]}); check "
                        f"{mcp_token_variable(self.spec.connector)}")) from None
                if attempt + 1 < self.retry.attempts and (
                        _TRANSIENT.search(last) or (statuses and statuses[-1] in (429, 500, 502, 503, 504))):
                    await self._backoff(attempt)
                    continue
                raise McpUnreachable(self.spec.redact(f"{self._where(tool)} failed: {last}")) from None
            if getattr(result, "is_error", False):
                last = _error_text(result)
                if _AUTH.search(_message(last)):
                    raise McpAuthError(self.spec.redact(
                        f"{self._where(tool)} refused the credentials: {last}. Check the credentials the server "
                        f"is given (its environment, or {mcp_token_variable(self.spec.connector)})."))
                transient = bool(_TRANSIENT.search(_message(last)))
                if transient and attempt + 1 < self.retry.attempts:
                    await self._backoff(attempt)
                    continue
                kind = "kept failing" if transient else "returned an error"
                raise McpToolError(self.spec.redact(f"{self._where(tool)} {kind}: {last}"))
            try:
                return _json_of(result)
            except (ValueError, TypeError) as exc:
                raise McpSchemaError(self.spec.redact(
                    f"{self._where(tool)} sent a response that is not JSON: {exc}")) from None
        raise McpToolError(self.spec.redact(f"{self._where(tool)} kept failing: {last}"))  # pragma: no cover

    async def _backoff(self, attempt: int) -> None:
        self._counts["retries"] += 1
        await self._sleep(self.retry.delay(attempt, self._rng))


def run_session(spec: ServerSpec, work: Callable[[ToolSession], Awaitable[T]], retry: RetryPolicy | None = None,
                sleep: Callable[[float], Awaitable[None]] | None = None, timeout: float = 60.0) -> T:
    """Open a session with the server, run `work` with it, close it; errors become McpError subclasses.

    A transient failure of a call is retried within the session. One that takes the session down (the SDK
    ends a streamable HTTP session when a request gets HTTP 503, say) is retried by connecting again and
    running `work` from the start, with the same backoff: `work` must only fetch, not write."""
    retry = retry or RetryPolicy()
    sleep = sleep or anyio.sleep
    counts = {"calls": 0, "retries": 0}
    rng = random.Random(1)
    for attempt in range(retry.attempts):
        statuses: list[int] = []
        try:
            return _one_session(spec, work, retry, sleep, timeout, statuses, counts)
        except _SessionDown as down:
            if attempt + 1 >= retry.attempts or not down.transient:
                raise down.error from None
            counts["retries"] += 1
            anyio.run(sleep, retry.delay(attempt, rng))
    raise AssertionError("unreachable")  # pragma: no cover


class _SessionDown(Exception):
    def __init__(self, error: McpError, transient: bool):
        super().__init__(str(error))
        self.error, self.transient = error, transient


def _one_session(spec: ServerSpec, work, retry: RetryPolicy, sleep, timeout: float, statuses: list[int],
                 counts: dict[str, int]):
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    async def main() -> T:
        if spec.url:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            async def note_status(response) -> None:
                statuses.append(response.status_code)

            headers = {"Authorization": f"Bearer {spec.token}"} if spec.token else {}
            http = httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks={"response": [note_status]})
            target = streamable_http_client(spec.url, http_client=http)
        else:
            http = None
            target = StdioServerParameters(command=spec.command[0], args=list(spec.command[1:]), env=dict(spec.env))
        try:
            async with Client(target, read_timeout_seconds=timeout, mode="legacy") as client:
                session = ToolSession(spec, client, retry, sleep, http_statuses=statuses, counts=counts)
                try:
                    return await work(session)
                except McpError:
                    raise
                except Exception as exc:  # a response of a shape the connector did not expect
                    raise McpSchemaError(spec.redact(
                        f"the {spec.connector} MCP server at {spec.describe()} sent a response the connector cannot "
                        f"read: {type(exc).__name__}: {exc}")) from exc
        finally:
            if http is not None:
                await http.aclose()

    try:
        return anyio.run(main)
    except McpError:
        raise
    except BaseException as exc:  # the SDK wraps transport failures in exception groups
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        leaves = list(_leaves(exc))
        mcp_errors = [e for e in leaves if isinstance(e, McpError)]
        if mcp_errors:
            raise mcp_errors[0] from None
        text = "; ".join(f"{type(e).__name__}: {e}" for e in leaves) or repr(exc)
        # Only an HTTP status says the credentials were refused here: an OSError's "Permission denied" when
        # the command cannot be run is not about credentials.
        refused = [s for s in statuses if s in (401, 403)]
        if refused:
            status = f"HTTP {refused[0]}"
            raise McpAuthError(spec.redact(
                f"the {spec.connector} MCP server at {spec.describe()} refused the credentials ({status}); check "
                f"{mcp_token_variable(spec.connector)}")) from None
        if statuses and statuses[-1] >= 400:
            text += f" (HTTP {statuses[-1]})"
        transient = bool(statuses and statuses[-1] in (429, 500, 502, 503, 504)) or bool(_TRANSIENT.search(text))
        raise _SessionDown(McpUnreachable(spec.redact(
            f"cannot reach the {spec.connector} MCP server at {spec.describe()}: {text}")), transient) from None


def _leaves(exc: BaseException):
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc

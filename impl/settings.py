"""The reference's settings, read once from the environment: the app's (:class:`Settings`) and
its server's (:class:`ServerSettings`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PACKAGE_FILES = Path(__file__).parent / "files"


@dataclass(frozen=True)
class Settings:
    """What the reference app can be told.

    Attributes:
        log_interval: seconds between two lines of ``/logs/stream``.
        log_lines: how many lines ``/logs/stream`` sends.
        event_interval: seconds between two events of ``/events``.
        event_count: how many JSON events ``/events`` sends before ``done``.
        event_retry: the reconnection time, in milliseconds, that ``/events``
            sends (``retry:``) with the first event of each response
            (``None``: none, the client keeps its own, 3 s in browsers).
        events_per_response: how many events one ``/events`` response carries
            at most before the server ends it; the client reconnects with
            ``Last-Event-ID`` and the next response resumes after it. Servers
            cut long-lived streams like this to rebalance load or recycle
            workers (``None``: one response carries the whole stream).
        files_root: the directory ``/download/{name}`` serves from; nothing outside it is served.
        keepalive: seconds of silence after which an SSE stream sends a comment
            (``None`` or ``0``: never).
        send_timeout: seconds a client may take to accept a chunk before its
            stream is abandoned (``None``: wait for ever).
        chat_thinking: seconds the demo's fake model thinks before its first token (``POST /chat``).
        chat_interval: seconds between two tokens of the demo's fake model.
        feed: where the conformance feed keeps its events (``STREAMSPEC_FEED``):
            ``memory``, this process only, or a Redis URL
            (``redis://127.0.0.1:6379/0``, Redis Streams, the ``redis`` extra), shared
            by every worker and host that names it, so that a client resumes on any.
    """

    log_interval: float = 0.3
    log_lines: int = 20
    event_interval: float = 1.0
    event_count: int = 10
    event_retry: int | None = None
    events_per_response: int | None = None
    files_root: Path = field(default=_PACKAGE_FILES)
    keepalive: float | None = 15.0
    send_timeout: float | None = 30.0
    feed: str = "memory"
    chat_thinking: float = 1.0
    chat_interval: float = 0.05

    def __post_init__(self) -> None:
        if self.event_retry is not None and self.event_retry < 0:
            raise ValueError(f"event_retry must be >= 0 ms, not {self.event_retry}")
        if self.events_per_response is not None and self.events_per_response < 1:
            raise ValueError(f"events_per_response must be >= 1, not {self.events_per_response}")

    @classmethod
    def from_environment(cls) -> Settings:
        """Settings from ``STREAMSPEC_*`` variables, defaults for the ones not set."""
        env = os.environ
        return cls(
            log_interval=float(env.get("STREAMSPEC_LOG_INTERVAL", cls.log_interval)),
            log_lines=int(env.get("STREAMSPEC_LOG_LINES", cls.log_lines)),
            event_interval=float(env.get("STREAMSPEC_EVENT_INTERVAL", cls.event_interval)),
            event_count=int(env.get("STREAMSPEC_EVENT_COUNT", cls.event_count)),
            event_retry=_optional_int(env.get("STREAMSPEC_EVENT_RETRY")),
            events_per_response=_optional_int(env.get("STREAMSPEC_EVENTS_PER_RESPONSE")),
            files_root=Path(env.get("STREAMSPEC_FILES_ROOT", str(_PACKAGE_FILES))),
            keepalive=_seconds(env.get("STREAMSPEC_KEEPALIVE"), cls.keepalive),
            send_timeout=_seconds(env.get("STREAMSPEC_SEND_TIMEOUT"), cls.send_timeout),
            feed=env.get("STREAMSPEC_FEED", cls.feed),
            chat_thinking=float(env.get("STREAMSPEC_CHAT_THINKING", cls.chat_thinking)),
            chat_interval=float(env.get("STREAMSPEC_CHAT_INTERVAL", cls.chat_interval)),
        )


def _seconds(value: str | None, default: float | None) -> float | None:
    if value is None:
        return default
    return float(value) if float(value) > 0 else None


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


@dataclass(frozen=True)
class ServerSettings:
    """How the reference is served: uvicorn's settings for long-lived streams.

    A streaming server holds connections for minutes or hours, so every way a
    client can hold one without a request in flight needs a bound; the app's
    own (:attr:`Settings.send_timeout`, the shutdown notice) bound the rest.

    Attributes:
        head_timeout: seconds a request's whole head may take to arrive, from
            when the connection waits for it (opened, or its previous response
            ended), however its bytes are spaced; then the connection is closed
            (:mod:`impl.server_protocol`; uvicorn has no such timeout).
        keep_alive_timeout: seconds an idle kept-alive connection stays open
            after a response (uvicorn's ``--timeout-keep-alive``, its default).
        graceful_shutdown_timeout: seconds uvicorn waits after SIGTERM before it
            cancels what still runs (``--timeout-graceful-shutdown``): a
            backstop, as the app's streams end on their own within 5 s of the
            signal (the shutdown notice, ``FileDownload``'s ``shutdown_grace``).
        limit_concurrency: connections (or running requests) beyond which
            uvicorn answers 503 (``--limit-concurrency``): every held stream is
            one, so an unbounded server runs out of file descriptors instead.
        max_head_size: bytes a request's head may have (h11's buffer for an
            incomplete event, ``--h11-max-incomplete-event-size``, its default);
            a larger head gets a 400.
    """

    head_timeout: float = 10.0
    keep_alive_timeout: int = 5
    graceful_shutdown_timeout: int = 10
    limit_concurrency: int = 1000
    max_head_size: int = 16 * 1024

    def __post_init__(self) -> None:
        if not self.head_timeout > 0:
            raise ValueError(f"head_timeout must be > 0 s, not {self.head_timeout}")

    @classmethod
    def from_environment(cls) -> ServerSettings:
        """Settings with ``STREAMSPEC_HEAD_TIMEOUT`` if it is set, the defaults otherwise."""
        return cls(head_timeout=float(os.environ.get("STREAMSPEC_HEAD_TIMEOUT", cls.head_timeout)))

    def uvicorn_options(self) -> dict[str, Any]:
        """Keyword arguments of ``uvicorn.run`` / ``uvicorn.Config`` that apply these settings
        (``http`` is a protocol class with this head timeout)."""
        from impl.server_protocol import with_head_timeout  # noqa: PLC0415 - it imports this module

        return {
            "http": with_head_timeout(self.head_timeout),
            "timeout_keep_alive": self.keep_alive_timeout,
            "timeout_graceful_shutdown": self.graceful_shutdown_timeout,
            "limit_concurrency": self.limit_concurrency,
            "h11_max_incomplete_event_size": self.max_head_size,
        }

    def uvicorn_arguments(self) -> list[str]:
        """The same settings as options of uvicorn's command line; the protocol reads its head
        timeout from ``STREAMSPEC_HEAD_TIMEOUT`` (an import string takes no arguments)."""
        return [
            "--http", "impl.server_protocol:HeadTimeoutH11Protocol",
            "--timeout-keep-alive", str(self.keep_alive_timeout),
            "--timeout-graceful-shutdown", str(self.graceful_shutdown_timeout),
            "--limit-concurrency", str(self.limit_concurrency),
            "--h11-max-incomplete-event-size", str(self.max_head_size),
        ]  # fmt: skip

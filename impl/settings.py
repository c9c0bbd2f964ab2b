"""The reference app's settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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

"""The requests a check sent on the wire, and the ``curl`` command that repeats one.

A failure is easier to act on when the person reading it can send the same
request by hand and look at the answer. Every transport of the suite that
speaks HTTP on a socket (the httpx clients of :mod:`spec.targets.client`, the
raw connections of :mod:`spec.wire`) calls :func:`note` with each request as it
goes out; the plugin clears the log before each check (:func:`reset`) and, when
a check fails, asks :func:`last_curl` for the command that repeats its last
request. The ASGI transport calls the app in-process: there is no request on
the wire to repeat, and nothing is noted.

Only the last sixteen requests for streams are kept, and the last four to control
endpoints, each body cut to :data:`BODY_KEPT` bytes:
a property check sends hundreds of requests, some with megabytes of body.

:func:`curl` is written by hand: it is a dozen lines of :func:`shlex.quote`,
and no library turns a request into a command line (curlify and its kind take
a ``requests`` object).
"""

from __future__ import annotations

import itertools
import shlex
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from spec.surface import CAPABILITIES_PATH, GATES_PATH, OBSERVE_PATH

BODY_KEPT = 512
"""How many bytes of a request's body are kept; a longer body is not shown in the command."""

_KEPT = 16
_CONTROLS_KEPT = 4


@dataclass(frozen=True)
class SentRequest:
    """One request as it went out on the wire.

    Attributes:
        url: scheme, host, port and the request target as sent
            (``http://127.0.0.1:8000/conformance/text?lines=3``).
        headers: the fields the check chose, in order (not those every
            client adds: ``Host``, ``Content-Length``, httpx's defaults).
        body: the first :data:`BODY_KEPT` bytes of the body.
        body_length: the body's whole length.
        http_version: ``"1.1"``, ``"1.0"`` or ``"2"`` (h2c with prior knowledge).
        same_connection: sent on the connection of the request before it
            (:meth:`spec.wire.RawExchange.again`), after that one's response.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    body_length: int = 0
    http_version: str = "1.1"
    same_connection: bool = False


CONTROL_PATHS = (GATES_PATH, OBSERVE_PATH, CAPABILITIES_PATH)
"""The surface's control endpoints: a check asks them about a stream, and the stream is
the request worth repeating."""


def _path(request: SentRequest) -> str:
    """The path of *request*'s target below its base path (``/conformance/text``)."""
    path = urlsplit(request.url).path
    start = path.find("/conformance/")
    return path[start:] if start >= 0 else path


def _control(request: SentRequest) -> bool:
    return any(path in _path(request) for path in CONTROL_PATHS)


_lock = threading.Lock()
_order = itertools.count()
_streams: deque[tuple[int, SentRequest]] = deque(maxlen=_KEPT)
_controls: deque[tuple[int, SentRequest]] = deque(maxlen=_CONTROLS_KEPT)
"""The last requests for streams, and apart the last to control endpoints (a check that
polls an observation sends hundreds), each with its place in the order they were sent."""


def note(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    http_version: str = "1.1",
    same_connection: bool = False,
) -> None:
    """Note one request as it goes out (the transports call it)."""
    request = SentRequest(
        method.upper(),
        url,
        tuple(headers),
        bytes(body[:BODY_KEPT]),
        len(body),
        http_version,
        same_connection,
    )
    with _lock:
        (_controls if _control(request) else _streams).append((next(_order), request))


def reset() -> None:
    """Forget every request (the plugin calls it before each check)."""
    with _lock:
        _streams.clear()
        _controls.clear()


def sent() -> list[SentRequest]:
    """The last requests noted since :func:`reset`, oldest first."""
    with _lock:
        return [request for _, request in sorted([*_streams, *_controls], key=lambda e: e[0])]


def last_curl(message: str = "") -> str:
    """The ``curl`` command that repeats the request a check's failure is about, or ``""``.

    That is the last request noted whose path the failure's *message* names, else the
    last one that was not to a control endpoint (:data:`CONTROL_PATHS`: a gate opened,
    an observation read), else the last one.
    """
    requests = sent()
    if not requests:
        return ""
    streams = [r for r in requests if not _control(r)]
    named = [r for r in streams if _path(r) in message]
    chosen = (named or streams or requests)[-1]
    index = requests.index(chosen)
    if chosen.same_connection and index > 0:
        return curl(requests[index - 1], then=chosen)
    return curl(chosen)


_PRINTABLE = frozenset(range(0x21, 0x7F))


def curl(request: SentRequest, *, then: SentRequest | None = None) -> str:
    """A ``curl`` command line that sends *request* as it was sent (and *then*, a GET on
    the same connection after its response), its head and body shown as they arrive.

    ``-sS -i -N``: no progress meter, errors shown, the head printed, the body unbuffered
    (a stream shows as it comes; stop an endless one with Ctrl-C). The URL is passed with
    ``--path-as-is`` when it holds dot segments, which curl would otherwise remove; a
    request target with bytes a URL cannot carry goes in ``--request-target``, quoted for
    bash; a surface stream's gate (:data:`GATE_PARAMETERS`) is left out. ``""`` when the
    request cannot be written as one command (a NUL, CR or LF in its target or a header).
    """
    words = ["curl", "-sS", "-i", "-N"]
    if request.http_version == "1.0":
        words.append("--http1.0")
    elif request.http_version == "2":
        words.append("--http2-prior-knowledge")  # h2c, as --http=2 speaks it
    if request.method == "HEAD":
        words.append("--head")
    elif request.method != "GET" or request.body_length:
        words += ["-X", request.method]
    for name, value in request.headers:
        if _breaks_line(f"{name}{value}"):
            return ""
        words += ["-H", _quote(f"{name}: {value}")]
    unshown = request.body_length > len(request.body)
    if unshown:
        words += ["--data-binary", "@BODY"]
    elif request.body_length:
        words += ["--data-binary", _quote(request.body.decode("latin-1"))]
    url_words = _url_words(words, request, then)
    if not url_words:
        return ""
    note = f"  # BODY: the {request.body_length}-byte body the check sent" if unshown else ""
    return " ".join(url_words) + note


GATE_PARAMETERS = frozenset({"gate", "gate_first"})
"""The query parameters that make a surface stream wait at a gate the check opens: a
request repeated by hand leaves them out, or its stream would wait for nobody."""


def ungated(url: str) -> str:
    """*url* without :data:`GATE_PARAMETERS` in its query (the rest as it was written)."""
    head, mark, query = url.partition("?")
    if not mark:
        return url
    kept = [part for part in query.split("&") if part.split("=", 1)[0] not in GATE_PARAMETERS]
    return head + ("?" + "&".join(kept) if kept else "")


def _url_words(words: list[str], request: SentRequest, then: SentRequest | None) -> list[str]:
    scheme, _, rest = ungated(request.url).partition("://")
    origin, slash, target = rest.partition("/")
    target = slash + target
    if _breaks_line(target):
        return []
    head = [*words]
    if any(byte not in _PRINTABLE for byte in target.encode("latin-1", "replace")):
        head += ["--request-target", _quote(target), _quote(f"{scheme}://{origin}/")]
    else:
        if "/." in target:
            head.append("--path-as-is")
        head.append(_quote(f"{scheme}://{rest}"))
    if then is not None:
        head += ["--next", "-sS", "-i", "-N", _quote(ungated(then.url))]
    return head


def _breaks_line(text: str) -> bool:
    return any(char in text for char in "\x00\r\n")


def _quote(text: str) -> str:
    """*text* as one shell word: :func:`shlex.quote`, or bash's ``$'...'`` when it holds
    bytes a terminal would not show."""
    if all(0x20 <= ord(char) < 0x7F for char in text):
        return shlex.quote(text)
    escaped = "".join(_escaped(char) for char in text)
    return f"$'{escaped}'"


def _escaped(char: str) -> str:
    if char in "\\'":
        return "\\" + char
    if 0x20 <= ord(char) < 0x7F:
        return char
    return "".join(
        f"\\x{byte:02x}" for byte in char.encode("utf-8" if ord(char) > 0xFF else "latin-1")
    )

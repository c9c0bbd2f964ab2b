"""A target's base path (issue 12): what the suite makes of ``--target-prefix`` and of a
URL target's path, and that each transport asks below it.

The whole suite against a mounted app, by each kind of target, is
``tests/test_prefix_suite.py``; here each piece is shown on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from spec import witness
from spec.intermediaries.nginx import render_config
from spec.matrix import MatrixTarget, load_targets
from spec.probe import why_silent
from spec.streams import fetch
from spec.surface import CAPABILITIES_PATH, SSE_PATH
from spec.targets import harness
from spec.targets.client import AsgiClient, SocketClient, http_client
from spec.targets.target import TargetError, load_target
from spec.wire import open_raw, read_whole
from tests.targets.mounted import app as mounted
from tests.test_wire import OK_CHUNKED, canned, recording

MOUNTED = "tests.targets.mounted:app"


# -- what the suite makes of the options ----------------------------------------------------


@pytest.mark.parametrize(
    ("given", "prefix"), [("/base", "/base"), ("/base/", "/base"), ("/a/b-c", "/a/b-c"), ("/", "")]
)
def test_the_prefix_is_kept_without_its_trailing_slash(given: str, prefix: str) -> None:
    assert load_target(MOUNTED, prefix=given).prefix == prefix


@pytest.mark.parametrize("given", ["base", "/a b", "/a;b", "/..", "/a/./b", "/a?b", "/a%2Fb"])
def test_a_prefix_that_is_not_a_plain_base_path_is_a_usage_error(given: str) -> None:
    with pytest.raises(TargetError, match="expected a base path"):
        load_target(MOUNTED, prefix=given)


def test_every_kind_of_target_takes_the_prefix() -> None:
    app = load_target(MOUNTED, prefix="/base")
    url = load_target("http://127.0.0.1:8000", prefix="/base")
    command = load_target(command="{python} -m server {port}", prefix="/base")
    assert (app.prefix, url.prefix, command.prefix) == ("/base", "/base", "/base")
    assert (url.url, app.label) == ("http://127.0.0.1:8000", f"{MOUNTED} (prefix /base)")
    assert load_target(MOUNTED).label == MOUNTED


@pytest.mark.parametrize("given", [None, "/base", "/base/"])
def test_a_url_with_a_path_sets_the_prefix(given: str | None) -> None:
    target = load_target("http://127.0.0.1:8000/base/", prefix=given)
    assert (target.url, target.prefix) == ("http://127.0.0.1:8000", "/base")


@pytest.mark.parametrize("given", ["/other", "/", "/base/more"])
def test_a_url_path_and_another_prefix_are_a_usage_error(given: str) -> None:
    with pytest.raises(TargetError, match="give the base path once"):
        load_target("http://127.0.0.1:8000/base", prefix=given)


def test_a_matrix_target_passes_its_prefix_on(tmp_path: Path) -> None:
    listing = tmp_path / "targets.toml"
    listing.write_text('[[targets]]\nlabel = "mounted"\ntarget = "m:app"\nprefix = "/base"\n')
    (entry,) = load_targets(listing)
    assert entry == MatrixTarget("mounted", target="m:app", prefix="/base")
    assert "--target-prefix=/base" in entry.options()
    assert not any(
        option.startswith("--target-prefix") for option in MatrixTarget("x", "m:app").options()
    )


# -- each transport asks below the prefix ---------------------------------------------------


def test_the_served_target_url_ends_with_the_prefix() -> None:
    with load_target(MOUNTED, prefix="/base").serve() as url:
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/base")


async def test_httpx_clients_ask_below_the_prefix() -> None:
    with load_target(MOUNTED, prefix="/base").serve() as url:
        async with http_client(url) as client:
            response = await client.get(CAPABILITIES_PATH)
        fetched = await fetch(SocketClient(url), "GET", CAPABILITIES_PATH)
    assert (str(response.url.path), response.status_code) == ("/base/conformance/capabilities", 200)
    assert fetched.status == 200


async def test_raw_requests_ask_below_the_prefix() -> None:
    """``open_raw``, a second request on its connection, and the silent-target probe."""
    async with canned(OK_CHUNKED, OK_CHUNKED) as url:
        async with open_raw(url + "/base", "GET", SSE_PATH, params=[("a", "b")]) as raw:
            await raw.to_end()
            again = await raw.again("GET", SSE_PATH)
        assert again is not None
    async with recording(OK_CHUNKED) as (url, received):
        await read_whole(url + "/base", "GET", SSE_PATH)
    async with recording(OK_CHUNKED) as (url, probed):
        assert await why_silent(url + "/base") is None
    assert received[0].startswith(b"GET /base/conformance/sse HTTP/1.1\r\n")
    assert probed[0].startswith(b"GET /base/conformance/capabilities HTTP/1.1\r\n")


async def test_a_second_request_on_the_connection_stays_below_the_prefix() -> None:
    answers: list[bytes] = []
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            for _ in range(2):
                answers.append(await stream.receive())
                await stream.send(OK_CHUNKED)

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve)
        url = f"http://127.0.0.1:{port}/base"
        async with open_raw(url, "GET", SSE_PATH) as raw:
            await raw.to_end()
            await raw.again("GET", SSE_PATH)
        group.cancel_scope.cancel()
    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [
        b"GET /base/conformance/sse HTTP/1.1"
    ] * 2


def test_the_scope_names_the_path_below_the_prefix_as_the_suite_s_server_would() -> None:
    """Path and raw path below the prefix, ``root_path`` empty: what the suite's uvicorn
    hands the app for ``GET /base/conformance/sse``, so both transports agree."""
    scope = harness.build_scope("GET", SSE_PATH, params=[("a", "b")], prefix="/base")
    assert (scope["path"], scope["raw_path"], scope["root_path"], scope["query_string"]) == (
        "/base/conformance/sse",
        b"/base/conformance/sse",
        "",
        b"a=b",
    )
    assert harness.build_scope("GET", SSE_PATH)["path"] == SSE_PATH


async def test_the_asgi_client_reaches_a_mounted_surface_below_the_prefix() -> None:
    below = await fetch(AsgiClient(mounted, prefix="/base"), "GET", CAPABILITIES_PATH)
    at_root = await fetch(AsgiClient(mounted), "GET", CAPABILITIES_PATH)
    assert (below.status, at_root.status) == (200, 404)


def test_nginx_s_locations_lie_below_the_prefix_and_pass_it_on(tmp_path: Path) -> None:
    config = render_config(tmp_path, 8080, "127.0.0.1:9000", "/base")
    assert (
        "location /base/documented/ {\n            proxy_pass http://127.0.0.1:9000/base/;"
        in config
    )
    assert (
        "location /base/ignore-x-accel/ {\n            proxy_pass http://127.0.0.1:9000/base/;"
        in config
    )
    assert "location / {\n            proxy_pass http://127.0.0.1:9000;" in config
    root = render_config(tmp_path, 8080, "127.0.0.1:9000")
    assert "location /documented/ {\n            proxy_pass http://127.0.0.1:9000/;" in root
    assert "{prefix}" not in config + root


# -- the witness counts only answers below the prefix ---------------------------------------


@contextmanager
def witnessing_below(prefix: str) -> Iterator[None]:
    witness.reset()
    witness.below(prefix)
    try:
        yield
    finally:
        witness.below("")
        witness.reset()


@pytest.mark.parametrize(
    ("path", "earned"),
    [
        ("/base/conformance/sse", True),
        ("/base/documented/conformance/sse", True),
        ("/conformance/sse", False),
        ("/nope/conformance/sse", False),
        ("/based/conformance/sse", False),
        ("/base", False),
    ],
)
def test_only_an_answer_below_the_prefix_earns_a_pass(path: str, earned: bool) -> None:
    with witnessing_below("/base"):
        witness.record(path, 200)
        assert (witness.missing() is None) is earned


def test_at_the_root_any_conformance_answer_earns_a_pass() -> None:
    with witnessing_below(""):
        witness.record("/documented/conformance/sse", 200)
        assert witness.missing() is None

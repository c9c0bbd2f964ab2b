"""Django under ASGI: ``StreamingHttpResponse`` and ``FileResponse`` behind the kit.

The module configures Django itself (``settings.configure``: no database, no
installed apps) and serves ``django.core.asgi.get_asgi_application()``, whose
views build Django's responses from the kit's request
(:func:`spec.kit.request_of` on ``request.scope``); the kit reaches them
with :func:`spec.kit.routed`.

* Plain streams (text, log lines, echoed bytes, endless lines):
  ``StreamingHttpResponse`` over the kit's producer as it is. Django 4.2 and
  later iterate an async iterator under ASGI; a sync one they accept too, and
  consume as Django documents (in a worker thread, through ``sync_to_async``).
* Downloads: a sync view (Django runs it in a worker thread under ASGI) that
  resolves the name below the root with ``django.utils._os.safe_join``, the
  resolution ``django.views.static.serve`` uses (``serve`` itself is, by its
  documentation, for development only and cannot send another file name), and
  answers ``FileResponse(open(...), as_attachment=True, filename=...)`` or 404.
* The middleware is ``SecurityMiddleware``, the first of the list
  ``django-admin startproject`` writes (the others need a database or sessions).

Django has no SSE API: an SSE stream would be framing written by hand inside a
``StreamingHttpResponse``, which would judge the adapter, not Django, so the
peer serves no SSE. Django has no send timeout or keep-alive either.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar, cast

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from django.core.asgi import get_asgi_application  # type: ignore[import-untyped]
from django.http import FileResponse, Http404, HttpRequest, StreamingHttpResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]
from django.utils._os import safe_join  # type: ignore[import-untyped]

from spec.kit import Download, DownloadRequest, Kit, Stream, StreamRequest, request_of, routed
from spec.targets.asgi_types import ASGIApp

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="streamspec-peer: no secret is kept here",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        DATABASES={},
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware"],
        USE_TZ=True,
    )
    django.setup(set_prefix=False)

R = TypeVar("R")


def kit_request(request: HttpRequest, kind: type[R]) -> R:
    found = request_of(request.scope)
    if not isinstance(found, kind):
        raise TypeError(f"expected a {kind.__name__}, the kit routed a {type(found).__name__}")
    return found


async def stream(request: HttpRequest) -> StreamingHttpResponse:
    asked = kit_request(request, StreamRequest)
    return StreamingHttpResponse(
        asked.body, content_type=asked.media_type, headers=dict(asked.headers)
    )


def download(request: HttpRequest) -> FileResponse:
    asked = kit_request(request, DownloadRequest)
    full = Path(safe_join(asked.root, asked.name))
    if not full.is_file():
        raise Http404(f"no file {asked.name!r} below the served root")
    filename = asked.filename if asked.filename is not None else full.name
    return FileResponse(full.open("rb"), as_attachment=True, filename=filename)


urlpatterns = [path("stream", stream), path("download", download)]

django_app = cast("ASGIApp", get_asgi_application())

app = Kit(
    stream=Stream(routed(django_app, "/stream")),
    download=Download(routed(django_app, "/download")),
)

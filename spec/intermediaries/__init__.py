"""Real components that sit between a target and its client, for the header chapter.

* :mod:`spec.intermediaries.asgi`: Starlette's ``GZipMiddleware`` and a stack
  of ``BaseHTTPMiddleware`` wrapped around the target's ASGI app.
* :mod:`spec.intermediaries.nginx`: Debian's nginx started on a loopback port
  in front of the target's uvicorn, with the configuration kept beside it.

Any chapter can put the target behind one of them: ``behind(app, via)`` for
the ASGI ones, :func:`spec.intermediaries.nginx.running_nginx` for nginx.
"""

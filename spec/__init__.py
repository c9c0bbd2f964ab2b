"""streamspec: executable specifications of HTTP streaming responses.

The package holds three things, each usable on its own:

* :mod:`spec.sse` is a sans-IO Server-Sent Events core (an encoder and the
  WHATWG decoder the suite uses as its oracle);
* :mod:`spec.rules` and :mod:`spec.plugin` turn rules into pytest checks run
  against a *target* and report the result rule by rule;
* :mod:`spec.chapters` holds the rules themselves, one module a chapter,
  rendered into ``spec/README.md`` by ``python -m spec.render``.
"""

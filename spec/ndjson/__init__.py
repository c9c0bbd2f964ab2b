"""A sans-IO NDJSON / JSON Lines core: records in, bytes out, and back.

Nothing here does I/O or imports a web framework: :func:`encode` turns one
JSON value into one record (a JSON text in UTF-8 followed by LF),
:class:`Decoder` turns bytes, as they arrive, into the records they complete.
"""

from spec.ndjson.decoder import Decoder, Malformed, Record, Truncated
from spec.ndjson.encoder import encode

__all__ = ["Decoder", "Malformed", "Record", "Truncated", "encode"]

"""Ways to reach a target: an ASGI message harness and a real uvicorn on loopback."""

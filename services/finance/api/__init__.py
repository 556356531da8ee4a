"""The HTTP API (FastAPI) and the page served with it."""

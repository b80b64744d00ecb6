"""How the schema is served: HTTP (`http.py`), websockets (`websocket.py`), and in-process calls
(`local_client.py`, for the functions the local bus runs)."""

"""Gunicorn settings for production (`gunicorn --config gunicorn.conf.py`).

Each setting below can be changed through the environment variable named in
its line; the defaults are deliberate limits, not Gunicorn's own.
"""

import os

wsgi_app = "statuspage:create_app()"

# Where to listen. In a container the app must listen on the container's own
# address; only the reverse proxy or the Service reaches it there.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104  # nosec B104

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A request that takes longer is cut off and its worker replaced; slow
# clients cannot hold a connection open for long.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5

# Bounded request line and headers: larger ones get 400 before the app runs.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Trust X-Forwarded-* from nobody at this layer: the app's ProxyFix decides
# how many proxies to believe (FORWARDED_PROXIES), in one place.
forwarded_allow_ips = ""

# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100

# Import the app and run create_app once, in the master, before forking: a
# recycled worker is then a fork, not a fresh import (about 0.4 s of CPU
# taken from serving, every max_requests requests), and a broken app stops
# the server at start-up instead of crash-looping workers. Connections are
# never shared: create_app opens none, and a forked worker drops any pooled
# database connection it inherited (extensions.py).
preload_app = True

# Logs to stdout and stderr, for the container runtime to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

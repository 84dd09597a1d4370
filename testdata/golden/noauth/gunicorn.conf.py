"""Gunicorn settings for production (`gunicorn --config gunicorn.conf.py`).

Each setting below can be changed through the environment variable named in
its line; the defaults are deliberate limits, not Gunicorn's own.
"""

import os

wsgi_app = "statuspage:create_app()"

# Where to listen. In a container the app must listen on the container's own
# address, which only the proxy can reach (compose: no published port;
# Kubernetes: a ClusterIP Service and a NetworkPolicy admitting the
# gateway's proxies only); the VM's unit sets 127.0.0.1:8000, behind nginx.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104  # nosec B104

worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Slow clients: gunicorn sets no deadline for reading a request's headers or
# body, and each connection being read holds one of the workers x threads
# slots, so a few clients sending a byte now and then stall the server.
# gunicorn relies on the proxy in front (Caddy, nginx, the Kubernetes
# gateway), which reads each request whole, under its own deadlines,
# before passing it on: never expose this port to clients directly.
# timeout: a worker that stops reporting to the master for this long is
# killed and replaced; with gthread that catches a hung worker, it does not
# bound one request. Idle kept-alive connections wait in the worker's event
# loop, not in a thread, for keepalive seconds.
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
# Recycling resets nothing a client could exploit: rate-limit counters live
# in the cache server, or without one in a file every worker shares
# (ratelimit_store.py), never only in a worker's memory.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10

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

# Access log lines carry the path without its query string (%(U)s, not the
# request line %(r)s) and no Referer: the OpenID Connect callback's code and
# state, and whatever else a query or a referring URL holds, stay out of logs.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'

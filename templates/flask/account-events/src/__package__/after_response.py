"""Work done once the response has gone: a bounded queue per kind of job and
one thread per queue that runs them, for each app.

A job handed over during a request starts from the response's WSGI close, so
a request that hands over work and one that does not do the same work before
they answer, and nothing in the work can hold up the response. A full queue
drops the job (the job says how to record that) rather than grow without end;
a job still queued when the process stops is lost.
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

from flask import Flask, Response, after_this_request, current_app, has_request_context

_EXTENSION = "after_response_workers"
_workers_created = threading.Lock()


class Job(Protocol):
    def run(self, app: Flask) -> None: ...

    def failed(self, app: Flask, error: Exception) -> None: ...

    def dropped(self, app: Flask) -> None: ...


def run_after_response(queue_name: str, size: int, job: Job) -> None:
    """Queue JOB on the app's QUEUE_NAME queue (made with room for SIZE jobs
    on first use) once the response has been sent, or now outside a request."""
    if not has_request_context():
        _worker(current_app._get_current_object(), queue_name, size).put(job)
        return

    @after_this_request
    def queue_once_answered(response: Response) -> Response:
        return run_after_sending(response, queue_name, size, job)


def run_after_sending(response: Response, queue_name: str, size: int, job: Job) -> Response:
    """Queue JOB as run_after_response does, from an after_request hook (too
    late for after_this_request): once RESPONSE has been sent."""
    worker = _worker(current_app._get_current_object(), queue_name, size)
    response.call_on_close(lambda: worker.put(job))
    return response


def wait_until_done(app: Flask) -> None:
    """Block until every job queued for APP so far has run (the tests wait,
    so that no mail or event reaches the next test)."""
    for worker in list(app.extensions.get(_EXTENSION, {}).values()):
        worker.queue.join()


class Worker:
    def __init__(self, app: Flask, name: str, size: int) -> None:
        self.app = app
        self.name = name
        self.queue: queue.Queue[Job] = queue.Queue(size)
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def put(self, job: Job) -> None:
        with self.started:
            # Started on first use, so each gunicorn worker gets its own after the fork.
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            job.dropped(self.app)

    def _run(self) -> None:
        while True:
            job = self.queue.get()
            try:
                job.run(self.app)
            except Exception as error:  # the thread must outlive any one job
                job.failed(self.app, error)
            finally:
                self.queue.task_done()


def _worker(app: Flask, name: str, size: int) -> Worker:
    workers = app.extensions.get(_EXTENSION)
    if workers is None or name not in workers:
        with _workers_created:
            workers = app.extensions.setdefault(_EXTENSION, {})
            workers.setdefault(name, Worker(app, name, size))
    return workers[name]

"""A forked worker (gunicorn preload_app) never shares the master's pooled
database connections: each process talks over its own sockets."""

import os

from sqlalchemy import text


def test_forked_child_drops_inherited_connections(app):
    from flask_sqlalchemy import SQLAlchemy

    db: SQLAlchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:  # leaves a connection in the pool
            connection.execute(text("SELECT 1"))
        inherited_pool = engine.pool
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            replaced = engine.pool is not inherited_pool
            os._exit(0 if replaced else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child kept the parent's connection pool"
    # The parent's own pool is untouched and still works.
    with app.app_context():
        assert engine.pool is inherited_pool
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1

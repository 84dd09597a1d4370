"""Every API answer in the tests is checked against the OpenAPI document:
conftest's make_app watches each app, so every test that calls the API also
proves that the document lists the status it got."""

import importlib

from flask import Flask, request


def watch_statuses(app: Flask, undocumented: list[str]) -> None:
    """Add to UNDOCUMENTED each answer of APP's API routes whose status the
    document does not list for its operation."""
    openapi = importlib.import_module(f"{app.import_name}.openapi")

    @app.after_request
    def check(response):
        rule = request.url_rule
        if rule is not None and rule.rule.startswith("/api/"):
            if "openapi_document" not in app.extensions:
                app.extensions["openapi_document"] = openapi.document(app)
            paths = app.extensions["openapi_document"]["paths"]
            operation = paths.get(openapi.openapi_path(rule.rule), {}).get(request.method.lower())
            if operation is None or str(response.status_code) not in operation["responses"]:
                undocumented.append(f"{request.method} {rule.rule}: {response.status_code}")
        return response

"""The API's OpenAPI 3.1 document, served at /api/v1/openapi.json: made
from the routes themselves (the URL map), the scope each names
(@token_required) and what each declares with @documented, whose schemas
(api_schemas.py) also check every request body before the view runs.
tests/test_openapi.py keeps it true: the document validates, every API route
is in it, and every operation in it is called and answers as documented.

No documentation page is served: a viewer such as Swagger UI is a large
script bundle that would be the only script of the API, for readers who can
open the JSON in a viewer of their own (README, "Use the API").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Flask, abort, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from werkzeug.routing import FloatConverter, IntegerConverter, UUIDConverter

from . import api_schemas
from .api_requests import api_blueprint, error
from .tokens import SCOPES

bp = api_blueprint("api_docs", "/api/v1")

SCHEMA_REF = "#/components/schemas/{model}"
# The largest id an integer column holds everywhere (PostgreSQL's integer).
MAX_ID = 2**31 - 1
# What any route may answer, besides what it declares.
TOO_MANY = "Too many requests from this client, or for this account, for now (Retry-After)."
BUSY = "Too busy for now (password hashing, or the rate-limit store); try again (Retry-After)."


@dataclass(frozen=True)
class Operation:
    summary: str
    body: type[BaseModel] | None
    # Status: (description, schema of the JSON answer, or None for no body).
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    query: tuple[dict[str, Any], ...] = field(default=())


def documented(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    responses: dict[int, tuple[str, type[BaseModel] | None]],
    query: tuple[dict[str, Any], ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view for the OpenAPI document; with BODY, its JSON body is
    checked against that schema first, and a body that does not fit is a 400
    that names the first problem."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if body is not None:
                problem = body_problem(body)
                if problem is not None:
                    return error(problem, 400)
            return view(*args, **kwargs)

        # Read by document(); the decorators outside copy it (functools.wraps).
        wrapper.operation = Operation(summary, body, responses, query)
        return wrapper

    return decorate


def body_problem(model: type[BaseModel]) -> str | None:
    """What is wrong with the request's JSON body for MODEL, or None. The
    value sent is never repeated back."""
    try:
        sent = request.get_json(silent=True)
    except RecursionError:
        sent = None
    if not isinstance(sent, dict):
        # Not JSON, or not an object: the API's answer to a malformed request.
        abort(400)
    try:
        model.model_validate(sent)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False, include_input=False, include_context=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}." if where else f"{first['msg']}."
    return None


@bp.get("/openapi.json")
@documented(
    "This document: the API in OpenAPI 3.1",
    responses={200: ("The OpenAPI document.", api_schemas.Document)},
)
def openapi_json():
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = document(current_app)
    return jsonify(current_app.extensions["openapi_document"])


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of APP's routes under /api/."""
    operations = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "operation", None)
        if rule.rule.startswith("/api/") and operation is not None:
            operations.append((rule, view, operation))
    models = {api_schemas.Problem}
    for _, _, operation in operations:
        models.update(model for _, model in operation.responses.values() if model)
        if operation.body:
            models.add(operation.body)
    _, schemas = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda model: model.__name__)],
        ref_template=SCHEMA_REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, view, operation in operations:
        path = openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, view, operation)
    try:
        app_version = version(app.import_name)
    except PackageNotFoundError:
        app_version = "0.0.0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{app.import_name} API",
            "version": app_version,
            "description": (
                "Log in with POST /api/v1/auth/token for an access token, and send it as "
                '`Authorization: Bearer TOKEN`. Every error answers {"error": message}.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token; each operation names the scope it needs: "
                    + "; ".join(f"{name}: {meaning}" for name, meaning in SCOPES.items()),
                }
            },
        },
    }


def openapi_path(route: str) -> str:
    """A Flask route as an OpenAPI path: /notes/<int:note_id> is /notes/{note_id}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", route)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    rule: Any, method: str, view: Callable[..., Any], operation: Operation
) -> dict[str, Any]:
    scope = getattr(view, "required_scope", None)
    responses = {code: (text, model) for code, (text, model) in operation.responses.items()}
    problem = api_schemas.Problem
    responses.setdefault(413, ("The body is larger than MAX_CONTENT_LENGTH.", problem))
    responses.setdefault(429, (TOO_MANY, problem))
    responses.setdefault(503, (BUSY, problem))
    if operation.body is not None:
        responses.setdefault(
            400, ("The body does not fit the schema; the error says how.", problem)
        )
    if method in {"POST", "PUT", "PATCH"}:
        # Every write must be JSON (api_requests.py), with a body or without.
        responses.setdefault(
            415, ("The body is not JSON (Content-Type: application/json).", problem)
        )
    if scope is not None:
        responses.setdefault(
            400, ("An empty bearer token (WWW-Authenticate: invalid_request).", problem)
        )
        responses.setdefault(
            401,
            (
                "No access token, or one expired or invalid (WWW-Authenticate says which).",
                problem,
            ),
        )
        responses.setdefault(
            403, (f"The access token is not good for {scope} (insufficient_scope).", problem)
        )
    if rule.arguments:
        responses.setdefault(404, ("None of the caller's has this id.", problem))
    # Any request: security.refuse_nul_characters.
    responses.setdefault(400, ("A NUL character in the query or the body.", problem))
    methods = rule.methods - {"HEAD", "OPTIONS"}
    operation_id = rule.endpoint.replace(".", "_")
    answer: dict[str, Any] = {
        # Unique, also where one view serves several methods.
        "operationId": operation_id if len(methods) == 1 else f"{operation_id}_{method.lower()}",
        "summary": operation.summary,
        "tags": [rule.endpoint.partition(".")[0]],
        "responses": {
            str(code): {"description": text, "content": _json(_ref(model))}
            if model
            else {"description": text}
            for code, (text, model) in sorted(responses.items())
        },
        "security": [{"bearer": [scope]}] if scope else [],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(rule, name)}
        for name in sorted(rule.arguments)
    ]
    parameters += list(operation.query)
    if parameters:
        answer["parameters"] = parameters
    if operation.body is not None:
        answer["requestBody"] = {"required": True, "content": _json(_ref(operation.body))}
    return answer


def _path_schema(rule: Any, name: str) -> dict[str, Any]:
    converter = rule._converters[name]
    if isinstance(converter, IntegerConverter):
        # What the route matches, up to what an id column holds.
        return {
            "type": "integer",
            "minimum": converter.min
            if converter.min is not None
            else (-MAX_ID - 1 if converter.signed else 0),
            "maximum": min(converter.max, MAX_ID) if converter.max is not None else MAX_ID,
        }
    if isinstance(converter, FloatConverter):
        return {"type": "number"}
    if isinstance(converter, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}

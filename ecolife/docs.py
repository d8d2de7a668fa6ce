"""The OpenAPI document's browser at /docs, with Swagger UI served by the service itself."""
from flask import redirect, send_from_directory
from swagger_ui_bundle import swagger_ui_path

DEFAULT_ERROR = {"$ref": "#/components/responses/DEFAULT_ERROR"}


def register_docs(app, api):
    """Serve /docs offline and document the error shape on every operation."""

    @app.get("/docs")
    def docs():
        return redirect("/api/v1/docs", code=302)

    @app.get("/docs/assets/<path:filename>")
    def docs_assets(filename):
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    _pagination_header_is_json(api.spec.components)
    _default_error_names_the_common_refusals(api.spec.components)
    schemas = api.spec.components.schemas
    # Every operation can fail with the one error shape; say so in the document.
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("default", DEFAULT_ERROR)
                _optional_body_if_all_fields_are(operation, schemas)


COMMON_REFUSALS = (
    "Any other refusal, in the one error shape: 400 `bad_request` (malformed or too deeply "
    "nested JSON), 413 `payload_too_large`, 415 `unsupported_media_type` (a body that is not "
    "JSON), 500 `internal_error`, 503 `unavailable` (the database briefly unreachable; "
    "Retry-After)."
)


def _default_error_names_the_common_refusals(components):
    """What any operation may answer besides its own documented statuses."""
    for store in (components.responses, components.responses_lazy):
        response = store.get("DEFAULT_ERROR")
        if response is not None:
            response["description"] = COMMON_REFUSALS


def _pagination_header_is_json(components):
    """X-Pagination holds JSON text: say so with ``content``, as OpenAPI 3 spells it.

    flask-smorest documents it with an object ``schema``, which OpenAPI reads as the
    ``simple`` style (``total,3,page,1``); a client or validator following the document
    would then misread the header the service actually sends.
    """
    for store in (components.headers, components.headers_lazy):
        header = store.get("PAGINATION")
        if header and "schema" in header:
            store["PAGINATION"] = {
                "description": "Pagination metadata, as JSON",
                "content": {"application/json": {"schema": header["schema"]}},
            }


def _optional_body_if_all_fields_are(operation, schemas):
    """A body with no required field may be left out (it reads as ``{}``): document that.

    webargs parses a missing JSON body as an empty object, so ``PATCH /me`` with no body
    is a valid no-op; flask-smorest would mark every body required regardless. A body
    schema with rules of its own (``oneOf``, ``minProperties``, ...) is not ``{}``-proof:
    it stays required.
    """
    body = operation.get("requestBody")
    if not body or not body.get("required"):
        return
    for media in body.get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            schema = schemas.get(ref.rsplit("/", 1)[1], {})
        if schema.get("type", "object") != "object" or schema.get("required"):
            return
        if any(rule in schema for rule in ("allOf", "anyOf", "oneOf", "not", "minProperties")):
            return
    body["required"] = False

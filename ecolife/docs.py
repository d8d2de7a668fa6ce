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

    # Every operation can fail with the one error shape; say so in the document.
    for operations in api.spec._paths.values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("default", DEFAULT_ERROR)

"""/shops/{id}/codes: the QR codes a shop prints (static) or shows on a screen (rotating)."""
from flask import Response, render_template
from flask.views import MethodView
from flask_smorest import Blueprint

from ecolife.auth.decorators import current_user, roles_required
from ecolife.codes import images, schemas, service
from ecolife.errors import ErrorSchema, NoBodyIn
from ecolife.headers import PAGE_CSP

blp = Blueprint("codes", __name__, url_prefix="/shops", description="QR codes of a shop",
                template_folder="templates")

# Ids are 32-bit columns: a larger one is a 404 at routing, never an overflow in the driver.
SHOP = "/<int:shop_id>"
CODE = SHOP + "/codes/<int:code_id>"
MANAGERS = ("shop_owner", "operator")
BINARY = {"type": "string", "format": "binary"}
# A rotating code's image is only right for ~30 s: never let a cache serve a stale one.
NO_STORE = {"Cache-Control": "no-store"}
NO_STORE_DOC = {"schema": {"type": "string", "example": "no-store"}}
STATIC_IMAGE_CACHE = {"Cache-Control": "private, max-age=300"}
IMAGE_CACHE_DOC = {
    "description": "`no-store` for a rotating code (its image is right for ~30 s); "
                   "`private, max-age=300` for a static one",
    "schema": {"type": "string", "example": "private, max-age=300"},
}
# Another owner's shop answers exactly like a missing one: its existence does not leak.
HIDDEN = ("`unknown_shop` (no such shop, or another owner's), `unknown_code` (no such code "
          "in this shop)")
REVOKED = ("`code_revoked` (revoked for good), `code_key_retired` (its signing key is no "
           "longer configured)")


def _qr_image(shop_id, code_id, render, mimetype):
    """The caller's code rendered by ``render`` (PNG or SVG), with its caching headers."""
    code, window = service.show_code(current_user(), shop_id, code_id)
    return Response(render(window["url"]), mimetype=mimetype, headers=_image_headers(code))


def _image_headers(code):
    return NO_STORE if code.mode == "rotating" else STATIC_IMAGE_CACHE


@blp.route(SHOP + "/codes")
class Codes(MethodView):
    @roles_required(*MANAGERS)
    @blp.arguments(schemas.CodeQuery, location="query")
    @blp.response(200, schemas.CodeOut(many=True))
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.paginate(max_page_size=100)
    def get(self, filters, shop_id, pagination_parameters):
        """List a shop's codes, revoked ones included (its owner or an operator)."""
        return service.list_codes(current_user(), shop_id, filters, pagination_parameters)

    @roles_required(*MANAGERS)
    @blp.arguments(schemas.CodeIn)
    @blp.response(201, schemas.CodeOut)
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.alt_response(
        403, schema=ErrorSchema,
        description="`forbidden` (not a shop owner or operator), `shop_not_active` (the shop "
                    "is pending or suspended), `action_not_active` (the earning rule is "
                    "switched off)",
    )
    def post(self, data, shop_id):
        """Make a code for one of the earning rules (owner of an approved shop, or an operator)."""
        return service.create_code(current_user(), shop_id, data)


@blp.route(CODE)
class CodeById(MethodView):
    @roles_required(*MANAGERS)
    @blp.response(200, schemas.CodeOut)
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    def get(self, shop_id, code_id):
        """One code of a shop."""
        return service.get_code(current_user(), shop_id, code_id)

    @roles_required(*MANAGERS)
    @blp.arguments(NoBodyIn, required=False)
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    def delete(self, _empty, shop_id, code_id):
        """Revoke a code for good; deleting a revoked code again is also 204."""
        service.revoke_code(current_user(), shop_id, code_id)


@blp.route(CODE + "/current")
class CodeCurrent(MethodView):
    @roles_required(*MANAGERS)
    @blp.response(200, schemas.CurrentOut, headers={"Cache-Control": NO_STORE_DOC})
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.alt_response(410, schema=ErrorSchema, description=REVOKED)
    def get(self, shop_id, code_id):
        """What the code shows now: rotating, a new url every 30 s; static, expires_at null."""
        _, window = service.show_code(current_user(), shop_id, code_id)
        return window, NO_STORE


@blp.route(CODE + "/qr.png")
class CodePng(MethodView):
    @roles_required(*MANAGERS)
    @blp.response(200, BINARY, content_type="image/png",
                  headers={"Cache-Control": IMAGE_CACHE_DOC})
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.alt_response(410, schema=ErrorSchema, description=REVOKED)
    def get(self, shop_id, code_id):
        """The code as a PNG (600+ px) that decodes to its url; rotating: Cache-Control no-store."""
        return _qr_image(shop_id, code_id, images.qr_png, "image/png")


@blp.route(CODE + "/qr.svg")
class CodeSvg(MethodView):
    @roles_required(*MANAGERS)
    @blp.response(200, BINARY, content_type="image/svg+xml",
                  headers={"Cache-Control": IMAGE_CACHE_DOC})
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.alt_response(410, schema=ErrorSchema, description=REVOKED)
    def get(self, shop_id, code_id):
        """The code as an SVG for print (2 mm a module) that decodes to its url."""
        return _qr_image(shop_id, code_id, images.qr_svg, "image/svg+xml")


@blp.route(CODE + "/poster")
class CodePoster(MethodView):
    @roles_required(*MANAGERS)
    @blp.response(200, {"type": "string"}, content_type="text/html")
    @blp.alt_response(404, schema=ErrorSchema, description=HIDDEN)
    @blp.alt_response(
        409, schema=ErrorSchema,
        description="`not_printable`: a rotating code changes every 30 s; print a static one",
    )
    @blp.alt_response(410, schema=ErrorSchema, description=REVOKED)
    def get(self, shop_id, code_id):
        """A printable A5 poster of a static code: Thai shop name, the action, points, the QR."""
        page = service.poster(current_user(), shop_id, code_id)
        qr_svg = images.qr_svg_inline(page["url"])
        return Response(render_template("codes/poster.html", qr_svg=qr_svg, **page),
                        mimetype="text/html", headers={"Content-Security-Policy": PAGE_CSP})

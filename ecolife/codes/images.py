"""QR images of a code's URL: PNG to download, SVG to print, inline SVG for the poster."""
import io
import math

import qrcode
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage

MIN_PNG_PIXELS = 600
# qrcode's SVG unit: a box of 10 is 1 mm. Scanned from arm's length, the printed size of one
# module decides whether a phone reads the code, far more than the version (module count) does.
# At 2 mm a module, our ~50-60 character URLs (version 5 or 6) print 90-98 mm square with their
# quiet zone: most of an A5 page's width.
SVG_BOX_SIZE = 20


def qr_png(text: str, *, box_size: int | None = None, border: int = 4) -> bytes:
    """A PNG of ``text``; without ``box_size``, the smallest modules that make it 600+ px wide."""
    qr = _qr(text, border)
    if box_size is None:
        box_size = math.ceil(MIN_PNG_PIXELS / (qr.modules_count + 2 * border))
    qr.box_size = box_size
    buffer = io.BytesIO()
    # Named: qrcode's default quietly falls back to PyPNG (not installed) without Pillow.
    qr.make_image(image_factory=PilImage).save(buffer)
    return buffer.getvalue()


def qr_svg(text: str) -> bytes:
    """A standalone SVG document (UTF-8, with XML declaration) of ``text``."""
    buffer = io.BytesIO()
    _svg_image(text).save(buffer)
    return buffer.getvalue()


def qr_svg_inline(text: str) -> str:
    """An ``<svg>`` element of ``text`` for embedding in HTML: no XML declaration."""
    return _svg_image(text).to_string(encoding="unicode")


def _qr(text: str, border: int) -> qrcode.QRCode:
    # Level Q restores up to 25% of the symbol: room for dirt, scratches and sun on a counter.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=border)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def _svg_image(text: str) -> SvgPathFillImage:
    qr = _qr(text, border=4)
    qr.box_size = SVG_BOX_SIZE
    # One <path> for all modules (no hairline seams between them) on a white background, so it
    # stays readable on dark viewers and coloured paper.
    return qr.make_image(image_factory=SvgPathFillImage)

"""QR images decode back to the code's URL; the poster and pages render Thai and the URL."""
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from jinja2 import Environment, FileSystemLoader
from PIL import Image, ImageDraw

from ecolife.codes import images, tokens

SVG_NS = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(__file__).resolve().parents[2] / "ecolife" / "codes" / "templates"
STATIC_URL = "https://ecolife.example/s/" + tokens.sign_static(42, b"k" * 32, "1")
URLS = [
    STATIC_URL,
    "https://ecolife.example/s/" + tokens.sign_rotating(2**40, b"s" * 20, 60_000_000),
    "https://recycle.chiangmai-municipality.go.th/ecolife/s/"
    + tokens.sign_static(2**48 - 1, b"k" * 32, "255"),
]


def decode(image):
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def rasterise(svg_markup, pixels_per_unit=8):
    """Draw the module squares of qrcode's path SVG ("M x0,y0 H x1 V y1 H x0 z" each) with PIL."""
    root = ET.fromstring(svg_markup)
    _, _, width, height = (float(n) for n in root.get("viewBox").split())
    image = Image.new("L", (round(width * pixels_per_unit), round(height * pixels_per_unit)), 255)
    draw = ImageDraw.Draw(image)
    path = root.find(f"{SVG_NS}path").get("d")
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path)
    assert squares and len(squares) == path.count("M")
    for x0, y0, x1, y1 in squares:
        corners = [float(v) * pixels_per_unit for v in (x0, y0, x1, y1)]
        draw.rectangle([corners[0], corners[1], corners[2] - 1, corners[3] - 1], fill=0)
    return image


# PNG


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_exactly_the_url(url):
    image = Image.open(io.BytesIO(images.qr_png(url)))
    assert image.format == "PNG"
    assert image.width == image.height >= 600
    assert decode(image) == [url]


def test_png_uses_error_correction_q():
    (barcode,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(images.qr_png(STATIC_URL))))
    assert barcode.ec_level == "Q"


def test_png_box_size_and_border_are_honoured():
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    qr.add_data(STATIC_URL)
    qr.make(fit=True)
    small = Image.open(io.BytesIO(images.qr_png(STATIC_URL, box_size=4, border=2)))
    assert small.width == small.height == (qr.modules_count + 2 * 2) * 4
    assert decode(small) == [STATIC_URL]


def test_default_png_is_the_smallest_whole_pixel_size_over_600():
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    qr.add_data(STATIC_URL)
    qr.make(fit=True)
    side = qr.modules_count + 2 * 4
    width = Image.open(io.BytesIO(images.qr_png(STATIC_URL))).width
    assert width % side == 0 and width >= 600 > width - side


# SVG


@pytest.mark.parametrize("url", URLS)
def test_svg_is_a_standalone_document_that_decodes_to_the_url(url):
    document = images.qr_svg(url)
    assert document.startswith(b"<?xml")
    root = ET.fromstring(document)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("width").endswith("mm")
    assert decode(rasterise(document)) == [url]


def test_inline_svg_is_an_element_without_declaration():
    markup = images.qr_svg_inline(STATIC_URL)
    assert markup.startswith("<svg") and "<?xml" not in markup
    assert ET.fromstring(markup).tag == f"{SVG_NS}svg"
    assert decode(rasterise(markup)) == [STATIC_URL]


def test_svg_prints_two_millimetre_modules():
    root = ET.fromstring(images.qr_svg(STATIC_URL))
    first_module = re.match(r"M([\d.]+),([\d.]+)H([\d.]+)", root.find(f"{SVG_NS}path").get("d"))
    x0, _, x1 = (float(v) for v in first_module.groups())
    side = float(root.get("viewBox").split()[2])
    assert float(root.get("width").removesuffix("mm")) == side  # one viewBox unit is 1 mm
    assert x1 - x0 == 2


# Templates


@pytest.fixture(scope="module")
def env():
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)


@pytest.fixture
def poster_vars():
    return {
        "shop_name": "ร้านกาแฟป่าซาง",
        "action_name": "No plastic bag",
        "action_name_th": "ปฏิเสธถุงพลาสติก",
        "points": 5,
        "qr_svg": images.qr_svg_inline(STATIC_URL),
        "url": STATIC_URL,
    }


def test_poster_shows_thai_shop_action_points_qr_and_url(env, poster_vars):
    html = env.get_template("codes/poster.html").render(**poster_vars)
    assert '<html lang="th">' in html and '<meta charset="utf-8">' in html
    assert "ร้านกาแฟป่าซาง" in html
    assert "ปฏิเสธถุงพลาสติก สแกนรับแต้ม" in html
    assert "No plastic bag" in html and "5 points" in html
    assert STATIC_URL in html
    assert "EcoLife" in html
    assert "ตรวจสอบว่าสติกเกอร์นี้ไม่ถูกปิดทับด้วยสติกเกอร์อื่น" in html
    assert "Check this sticker has not been covered by another one" in html
    assert "@page { size: A5;" in html
    assert '"Noto Sans Thai", "Sarabun"' in html
    # The QR is embedded as markup, not escaped text, and still decodes.
    svg = html[html.index("<svg") : html.index("</svg>") + len("</svg>")]
    assert decode(rasterise(svg)) == [STATIC_URL]


def test_poster_has_no_external_assets(env, poster_vars):
    html = env.get_template("codes/poster.html").render(**poster_vars)
    # Only the code's own URL and the SVG namespace name (an identifier, never fetched).
    without_url = html.replace(STATIC_URL, "").replace('xmlns="http://www.w3.org/2000/svg"', "")
    for external in ("<link", "<script", "src=", "@import", "url(", "http://", "https://"):
        assert external not in without_url


def test_poster_without_thai_action_name(env, poster_vars):
    poster_vars.pop("action_name_th")
    poster_vars["points"] = 1
    html = env.get_template("codes/poster.html").render(**poster_vars)
    assert "สแกนรับแต้ม" in html and "No plastic bag" in html and "1 point<" in html


def test_poster_escapes_shop_names(env, poster_vars):
    poster_vars["shop_name"] = '<script>alert("x")</script> & ร้าน'
    html = env.get_template("codes/poster.html").render(**poster_vars)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp; ร้าน" in html

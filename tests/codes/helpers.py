"""Helpers of the code API tests: paths, and reading QR images back."""
import io

import zxingcpp
from PIL import Image

from tests.codes.test_images import rasterise

BASE = "https://ecolife.example/s/"
# HTML-special characters too: the poster must escape them and still show the name.
THAI_NAME = "ร้านข้าวซอยป้าศรี & “กาแฟดอยสะเก็ด” <ลำพูน>"


def codes_url(shop, *rest):
    return "/".join([f"/api/v1/shops/{shop.id}/codes", *map(str, rest)])


def decode_png(data):
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def decode_svg(markup):
    return [b.text for b in zxingcpp.read_barcodes(rasterise(markup))]

"""The Thai catalogue: complete, compiled, and holding every text the code marks."""
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "ecolife" / "translations" / "th" / "LC_MESSAGES"
KEYWORDS = ["-k", "N_", "-k", "lazy_gettext", "-k", "ValidationError", "-k", "Invalid:2"]


def _po():
    with open(CATALOGUE / "messages.po", "rb") as fh:
        return read_po(fh, locale="th")


def _translations(catalogue):
    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {plain(m.id): plain(m.string) for m in catalogue if m.id}


def test_every_message_is_translated_and_none_is_fuzzy():
    po = _po()
    untranslated = [m.id for m in po if m.id and not all(
        m.string if isinstance(m.string, tuple) else [m.string])]
    assert untranslated == []
    assert [m.id for m in po if m.id and m.fuzzy] == []


def test_the_committed_mo_is_the_po_compiled():
    """Both are committed (so a checkout runs in Thai whatever starts it): `make messages`
    after every change to the .po."""
    with open(CATALOGUE / "messages.mo", "rb") as fh:
        mo = read_mo(fh)
    assert _translations(mo) == _translations(_po())


def test_the_catalogue_holds_every_text_the_code_marks(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         *KEYWORDS, "--no-location", "-o", str(pot), "."],
        cwd=ROOT, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    with open(pot, "rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    present = {m.id if isinstance(m.id, str) else m.id[0] for m in _po() if m.id}
    assert sorted(wanted - present) == [], "run `make messages` and translate what it adds"

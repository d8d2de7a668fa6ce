"""QR code tokens: signing, parsing, verification, time windows and URL extraction."""
import base64
import random
import string

import pytest

from ecolife.codes import tokens
from ecolife.codes.tokens import InvalidToken, TokenExpired

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
SECRET = bytes(range(20))
BASE = "https://ecolife.example"
NOW = 1_800_000_000.0  # a step boundary: 60,000,000 * 30
STEP = tokens.STEP_SECONDS


def static_token(code_id=42, kid="1", key=KEY):
    return tokens.sign_static(code_id, key, kid)


def rotating_token(code_id=42, counter=None, secret=SECRET):
    if counter is None:
        counter = tokens.counter_at(NOW)
    return tokens.sign_rotating(code_id, secret, counter)


def flip_bit(token, bit):
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[bit // 8] ^= 1 << (bit % 8)
    return base64.urlsafe_b64encode(bytes(raw)).decode()


# Round trips and size


@pytest.mark.parametrize("code_id", [1, 42, 2**16, 2**32, 2**40, 2**48 - 1])
def test_static_round_trip(code_id):
    token = static_token(code_id, kid="7")
    parsed = tokens.parse(token)
    fields = (parsed.kind, parsed.code_id, parsed.kid, parsed.counter)
    assert fields == ("static", code_id, "7", None)
    tokens.verify_static(parsed, {"7": KEY})


@pytest.mark.parametrize("code_id", [1, 42, 2**16, 2**32, 2**40, 2**48 - 1])
def test_rotating_round_trip(code_id):
    counter = tokens.counter_at(NOW)
    parsed = tokens.parse(rotating_token(code_id, counter))
    fields = (parsed.kind, parsed.code_id, parsed.kid, parsed.counter)
    assert fields == ("rotating", code_id, None, counter)
    tokens.verify_rotating(parsed, SECRET, NOW)


@pytest.mark.parametrize("code_id", [1, 2**40, 2**48 - 1])
def test_tokens_are_short_url_safe_and_unpadded(code_id):
    for token in (static_token(code_id), rotating_token(code_id)):
        assert len(token) <= 24
        assert set(token) <= set(string.ascii_letters + string.digits + "-_")


def test_static_tokens_differ_by_code_and_key():
    variants = {
        static_token(1),
        static_token(2),
        static_token(1, key=OTHER_KEY),
        static_token(1, kid="2"),
    }
    assert len(variants) == 4


@pytest.mark.parametrize("code_id", [0, -1, 2**48])
def test_code_id_out_of_range_is_a_programming_error(code_id):
    with pytest.raises(ValueError):
        tokens.sign_static(code_id, KEY, "1")
    with pytest.raises(ValueError):
        tokens.sign_rotating(code_id, SECRET, 1)


@pytest.mark.parametrize("kid", ["", "01", "+1", " 1", "256", "-1", "k1", "١"])
def test_kid_must_be_a_canonical_byte_number(kid):
    with pytest.raises(ValueError):
        tokens.sign_static(1, KEY, kid)


@pytest.mark.parametrize("counter", [-1, 2**32])
def test_counter_out_of_range_is_a_programming_error(counter):
    with pytest.raises(ValueError):
        tokens.sign_rotating(1, SECRET, counter)


def test_new_code_secret_is_20_random_bytes():
    assert len(tokens.new_code_secret()) == 20
    assert tokens.new_code_secret() != tokens.new_code_secret()


# Forgery and tampering


def test_every_bit_flip_of_a_static_token_is_refused():
    keys = {str(n): KEY for n in range(256)}
    for bit in range(18 * 8):
        with pytest.raises(InvalidToken):
            tokens.verify_static(tokens.parse(flip_bit(static_token(), bit)), keys)


def test_every_bit_flip_of_a_rotating_token_is_refused():
    for bit in range(18 * 8):
        # InvalidToken, never TokenExpired: a forged counter must not pass as a stale genuine one.
        with pytest.raises(InvalidToken):
            tokens.verify_rotating(tokens.parse(flip_bit(rotating_token(), bit)), SECRET, NOW)


def test_static_token_signed_with_another_key_is_refused():
    with pytest.raises(InvalidToken):
        tokens.verify_static(tokens.parse(static_token(key=OTHER_KEY)), {"1": KEY})


def test_static_token_with_unknown_kid_is_refused():
    with pytest.raises(InvalidToken):
        tokens.verify_static(tokens.parse(static_token(kid="3")), {"1": KEY, "2": KEY})


def test_old_kid_verifies_while_configured():
    keys = {"1": KEY, "2": OTHER_KEY}
    tokens.verify_static(tokens.parse(static_token(kid="1", key=KEY)), keys)
    tokens.verify_static(tokens.parse(static_token(kid="2", key=OTHER_KEY)), keys)
    with pytest.raises(InvalidToken):
        tokens.verify_static(tokens.parse(static_token(kid="1", key=KEY)), {"2": OTHER_KEY})


def test_rotating_token_made_with_another_secret_is_refused():
    with pytest.raises(InvalidToken):
        tokens.verify_rotating(tokens.parse(rotating_token(secret=b"x" * 20)), SECRET, NOW)


def test_static_token_is_not_accepted_as_rotating():
    with pytest.raises(InvalidToken):
        tokens.verify_rotating(tokens.parse(static_token(key=SECRET)), SECRET, NOW)


def test_rotating_token_is_not_accepted_as_static():
    with pytest.raises(InvalidToken):
        tokens.verify_static(tokens.parse(rotating_token(secret=KEY)), {"1": KEY})


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t[:-2],
        lambda t: t[:-4],
        lambda t: t + "A",
        lambda t: t + "AAAA",
        lambda t: t + "=",
        lambda t: t[:-2] + "==",
        lambda t: " " + t,
        lambda t: t + "\n",
        lambda t: t[:10] + " " + t[11:],
        lambda t: t.replace(t[5], "+").replace(t[6], "/"),
        lambda t: t[:-1] + "ก",
        lambda t: t[:-1] + "Ａ",
        lambda t: t[:-1] + "\x00",
        lambda t: t * 1000,
        lambda t: "",
    ],
)
def test_malformed_tokens_are_refused_by_parse(mangle):
    for token in (static_token(), rotating_token()):
        with pytest.raises(InvalidToken):
            tokens.parse(mangle(token))


@pytest.mark.parametrize("version", [0x00, 0x03, 0x7F, 0xFF])
def test_unknown_version_is_refused(version):
    token = base64.urlsafe_b64encode(bytes([version]) + bytes(17)).decode()
    with pytest.raises(InvalidToken):
        tokens.parse(token)


@pytest.mark.parametrize("value", [None, 42, static_token().encode(), ["x"]])
def test_parse_refuses_non_strings(value):
    with pytest.raises(InvalidToken):
        tokens.parse(value)


def garbage(rng):
    """A random string: pure noise, or a genuine token with a few characters changed."""
    alphabet = string.ascii_letters + string.digits + "-_=+/ \t\n\x00.:%?#ก๐Ａ\u200b\ud800😀"
    if rng.random() < 0.5:
        length = rng.choice([0, 1, 22, 23, 24, 25, 32, rng.randint(0, 80)])
        return "".join(rng.choice(alphabet) for _ in range(length))
    code_id = rng.randint(1, 2**48 - 1)
    token = list(rng.choice([static_token(code_id), rotating_token(code_id)]))
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(len(token))
        operation = rng.choice(["replace", "insert", "delete"])
        if operation == "replace":
            token[position] = rng.choice(alphabet)
        elif operation == "insert":
            token.insert(position, rng.choice(alphabet))
        else:
            del token[position]
    return "".join(token)


def test_garbage_never_raises_anything_but_invalid_token():
    rng = random.Random(20240601)
    keys = {str(n): KEY for n in range(256)}
    for _ in range(5000):
        text = garbage(rng)
        try:
            parsed = tokens.parse(text)
            if parsed.kind == "static":
                tokens.verify_static(parsed, keys)
            else:
                tokens.verify_rotating(parsed, SECRET, NOW)
        except InvalidToken:
            continue
        # Only a genuine token passes: a "mutation" may replace a character with itself.
        sign = static_token if parsed.kind == "static" else rotating_token
        assert text == sign(parsed.code_id)


# Rotating time windows


def test_counter_steps_every_30_seconds():
    assert STEP == 30
    assert [tokens.counter_at(t) for t in (0, 29.999, 30, 59.999, 60)] == [0, 0, 1, 1, 2]
    assert tokens.counter_at(NOW) == NOW // STEP


def test_expires_at_is_the_start_of_step_counter_plus_two():
    assert tokens.expires_at(100) == 102 * STEP


@pytest.mark.parametrize("issued_at", [NOW, NOW + 0.001, NOW + 15, NOW + 29.999])
def test_a_token_expires_within_60_seconds_of_issue(issued_at):
    expiry = tokens.expires_at(tokens.counter_at(issued_at))
    assert 30 < expiry - issued_at <= 60


@pytest.mark.parametrize(
    "offset",
    [-STEP, -STEP + 0.001, 0, STEP - 0.001, STEP, 2 * STEP - 0.001],
    ids=["skewed-start", "skewed", "issued", "end-of-step", "next-step", "last-instant"],
)
def test_rotating_token_accepted_from_one_step_early_to_the_end_of_the_next(offset):
    counter = tokens.counter_at(NOW)
    tokens.verify_rotating(tokens.parse(rotating_token(counter=counter)), SECRET, NOW + offset)


@pytest.mark.parametrize("offset", [2 * STEP, 2 * STEP + 0.001, 3 * STEP, 86400 * 365])
def test_rotating_token_expires_at_start_of_step_plus_two(offset):
    counter = tokens.counter_at(NOW)
    assert NOW + 2 * STEP == tokens.expires_at(counter)
    with pytest.raises(TokenExpired):
        tokens.verify_rotating(tokens.parse(rotating_token(counter=counter)), SECRET, NOW + offset)


@pytest.mark.parametrize("offset", [-STEP - 0.001, -2 * STEP, -86400])
def test_rotating_token_from_beyond_the_skew_is_refused(offset):
    counter = tokens.counter_at(NOW)
    with pytest.raises(InvalidToken):
        tokens.verify_rotating(tokens.parse(rotating_token(counter=counter)), SECRET, NOW + offset)


def test_expired_token_with_bad_mac_is_invalid_not_expired():
    stale = rotating_token(counter=tokens.counter_at(NOW) - 10, secret=b"x" * 20)
    with pytest.raises(InvalidToken):
        tokens.verify_rotating(tokens.parse(stale), SECRET, NOW)


# Tokens from scanned URLs

TOKEN = static_token()


@pytest.mark.parametrize(
    "text",
    [
        f"{BASE}/s/{TOKEN}",
        f"{BASE}/s/{TOKEN}/",
        f"http://ecolife.example/s/{TOKEN}",
        f"HTTPS://ecolife.example/s/{TOKEN}",
        f"  {BASE}/s/{TOKEN}\n",
        f"\t{BASE}/s/{TOKEN}/ ",
    ],
)
def test_token_from_url_accepts_our_urls(text):
    assert tokens.token_from_url(text, BASE) == TOKEN
    assert tokens.token_from_url(text, BASE + "/") == TOKEN
    assert tokens.token_from_url(text, "http://ecolife.example") == TOKEN


def test_token_from_url_honours_a_base_path():
    base = "https://example.org/eco"
    assert tokens.token_from_url(f"https://example.org/eco/s/{TOKEN}", base) == TOKEN
    with pytest.raises(InvalidToken):
        tokens.token_from_url(f"https://example.org/s/{TOKEN}", base)


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f"ecolife.example/s/{TOKEN}",
        f"//ecolife.example/s/{TOKEN}",
        f"ftp://ecolife.example/s/{TOKEN}",
        f"javascript://ecolife.example/s/{TOKEN}",
        f"https://evil.example/s/{TOKEN}",
        f"https://ecolife.example.evil.example/s/{TOKEN}",
        f"https://ecolife.example@evil.example/s/{TOKEN}",
        f"https://user@ecolife.example/s/{TOKEN}",
        f"https://ecolife.example:8443/s/{TOKEN}",
        f"https://evil.example/ecolife.example/s/{TOKEN}",
        f"https://ecolife.example/x/{TOKEN}",
        f"https://ecolife.example//s/{TOKEN}",
        f"https://ecolife.example/s//{TOKEN}",
        f"https://ecolife.example/S/{TOKEN}",
        f"https://ecolife.example/s/{TOKEN}//",
        f"https://ecolife.example/s/{TOKEN}/extra",
        f"https://ecolife.example/s/{TOKEN}?next=https://evil.example",
        f"https://ecolife.example/s/{TOKEN}?",
        f"https://ecolife.example/s/{TOKEN}#x",
        f"https://ecolife.example/s/{TOKEN[:12]}\n{TOKEN[12:]}",
        f"https://ecolife.example/s/{TOKEN[:12]}%41{TOKEN[13:]}",
        f"https://ecolife.example/s/{TOKEN}A",
        f"https://ecolife.example/s/{TOKEN[:-1]}",
        f"https://ecolife.example/s/../s/{TOKEN}",
        f"https://ecolife.example/s/{TOKEN} https://evil.example",
        f"{BASE}/s/{TOKEN}" + " " * 3000,
        "https://ecolife.example/s/" + "A" * 5000,
        "",
    ],
)
def test_token_from_url_refuses_anything_else(text):
    with pytest.raises(InvalidToken):
        tokens.token_from_url(text, BASE)


def test_token_from_url_needs_an_absolute_base():
    with pytest.raises(ValueError):
        tokens.token_from_url(f"{BASE}/s/{TOKEN}", "ecolife.example")


def test_token_from_url_garbage_never_raises_anything_but_invalid_token():
    rng = random.Random(7)
    for _ in range(2000):
        text = rng.choice(["", BASE + "/s/", "http://ecolife.example/s/"]) + garbage(rng)
        try:
            token = tokens.token_from_url(text, BASE)
        except InvalidToken:
            continue
        assert len(token) == 24

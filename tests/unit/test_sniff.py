import pytest

from tests.support import HTML_BYTES, png_bytes
from webapp import sniff

SAMPLES = {
    "image/png": png_bytes(),
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/gif": b"GIF89a\x01\x00\x01\x00",
    "image/webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "video/mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
    "video/quicktime": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00",
    "image/heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
    "audio/mpeg": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "audio/mp4": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00",
    "audio/ogg": b"OggS\x00\x02\x00\x00",
    "audio/wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    "audio/flac": b"fLaC\x00\x00\x00\x22",
    "application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


@pytest.mark.parametrize(("content_type", "head"), SAMPLES.items())
def test_real_signatures_match(content_type, head):
    assert sniff.matches(content_type, head)


# Opening bytes of real files, as the devices that make them write them.
REAL_HEADERS = [
    # iPhone video (IMG_0001.MOV): ftyp "qt  ", then a "wide" atom before mdat.
    ("video/quicktime", bytes.fromhex("00000014667479707174202000000000717420200000000877696465")),
    # QuickTime files from older cameras start straight with an atom.
    ("video/quicktime", bytes.fromhex("0000000877696465") + b"\x00\x00\x10\x00mdat"),
    # iTunes / Voice Memos .m4a: "M4A " with mp42 and isom compatible.
    ("audio/mp4", bytes.fromhex("0000001c667479704d344120000000004d34412069736f6d6d703432")),
    # iPhone HEIC photo: major "heic", compatible "mif1" and "heic".
    ("image/heic", bytes.fromhex("00000018667479706865696300000000") + b"mif1heic"),
    ("image/heif", bytes.fromhex("00000018667479706865696300000000") + b"mif1heic"),
    # Samsung and libheif HEIC: major "mif1", HEVC brand among the compatible ones.
    ("image/heic", bytes.fromhex("0000001c667479706d69663100000000") + b"mif1heicmiaf"),
    ("image/heif", bytes.fromhex("0000001c667479706d69663100000000") + b"mif1heicmiaf"),
]


@pytest.mark.parametrize(("content_type", "head"), REAL_HEADERS)
def test_real_file_headers_match(content_type, head):
    assert sniff.matches(content_type, head + b"\x00" * 64)


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        # AVIF is HEIF-based too ("avif" major, "mif1" compatible) but is not HEIC.
        ("image/heic", bytes.fromhex("0000001c6674797061766966000000006176696d6d6966316d696166")),
        ("image/heif", bytes.fromhex("0000001c6674797061766966000000006176696d6d6966316d696166")),
        # A generic HEIF image coded with something other than HEVC is no HEIC.
        ("image/heic", bytes.fromhex("00000018667479706d69663100000000") + b"mif1miaf"),
        ("video/quicktime", bytes.fromhex("00000018667479706d703432000000006d70343269736f6d")),
        ("audio/mp4", bytes.fromhex("00000014667479707174202000000000717420200000000877696465")),
    ],
)
def test_neighbouring_brands_are_told_apart(content_type, head):
    assert not sniff.matches(content_type, head)


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("image/png", HTML_BYTES),
        ("image/png", b"\xff\xd8\xff\xe0 jpeg bytes"),
        ("image/jpeg", png_bytes()),
        ("application/pdf", b"<script>%PDF-</script>"),
        ("video/mp4", b"\x00\x00\x00\x18ftypM4A \x00"),
        ("audio/mpeg", b"plain text pretending"),
        ("image/gif", b""),
        ("text/html", HTML_BYTES),  # no signature for active types: never accepted
        ("image/svg+xml", HTML_BYTES),
    ],
)
def test_spoofed_or_unknown_content_does_not_match(content_type, head):
    assert not sniff.matches(content_type, head)


@pytest.mark.parametrize(
    ("head", "found"),
    [(png_bytes(), "image/png"), (HTML_BYTES, "text/html"), (b"hello there", "text/plain"), (b"\x00\x01\x02", None)],
)
def test_detect_names_what_it_found(head, found):
    assert sniff.detect(head) == found


def test_every_default_type_can_be_verified():
    from webapp.config import DEFAULT_ALLOWED_TYPES

    assert set(DEFAULT_ALLOWED_TYPES) <= sniff.known_types()

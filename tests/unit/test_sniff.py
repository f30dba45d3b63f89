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

import pytest

from webapp import rules
from webapp.config import DEFAULT_ALLOWED_TYPES
from webapp.rules import Refusal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\cat.jpg", "cat.jpg"),
        ("/abs/path/to/song.mp3", "song.mp3"),
        ("evil\r\nX-Injected: 1.png", "evilX-Injected_ 1.png"),
        ("tab\there.png", "tabhere.png"),
        ("nul\x00byte.png", "nulbyte.png"),
        ("gnp\u202eexe.png", "gnpexe.png"),
        ('quote"and<angle>.png', "quote_and_angle_.png"),
        ("...hidden.png", "hidden.png"),
        ("  spaced   out  .png", "spaced out .png"),
        ("Fête d’été — 東京.jpg", "Fête d’été — 東京.jpg"),
        ("e\u0301cole.png", "\u00e9cole.png"),
        ("no\u00a0break.png", "no break.png"),
        ("", "file"),
        ("../..", "file"),
        ("....", "file"),
    ],
)
def test_clean_filename(raw, expected):
    assert rules.clean_filename(raw) == expected


@pytest.mark.parametrize("raw", ["a" * 500 + ".png", "東" * 300 + ".png", "x" * 1000])
def test_clean_filename_limits_length_and_keeps_extension(raw):
    cleaned = rules.clean_filename(raw)
    assert len(cleaned.encode()) <= rules.MAX_FILENAME_BYTES
    if raw.endswith(".png"):
        assert cleaned.endswith(".png")
    cleaned.encode("utf-8")  # no half characters


def test_object_key_round_trip():
    key = rules.object_key("abc123", "cat.png")
    assert key == "uploads/abc123/cat.png"
    assert rules.media_id_from_key(key) == "abc123"
    assert rules.media_id_from_key("uploads/abc123") is None
    assert rules.media_id_from_key("elsewhere/abc/cat.png") is None


def check(**fields):
    data = {"filename": "cat.png", "content_type": "image/png", "size": 10, **fields}
    return rules.check_upload_request(data, allowed_types=DEFAULT_ALLOWED_TYPES, max_bytes=1000)


def test_check_upload_request_accepts_and_cleans():
    request = check(name="  My cat\x07 ", caption="line one\r\nline two", content_type="IMAGE/PNG; charset=x")
    assert request.name == "My cat"
    assert request.caption == "line one\nline two"
    assert request.content_type == "image/png"


def test_name_defaults_to_filename():
    assert check(name="").name == "cat.png"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"size": 1001}, "file_too_large"),
        ({"size": 0}, "invalid_request"),
        ({"size": -5}, "invalid_request"),
        ({"size": "10"}, "invalid_request"),
        ({"size": True}, "invalid_request"),
        ({"size": 1.5}, "invalid_request"),
        ({"filename": ""}, "invalid_request"),
        ({"filename": None}, "invalid_request"),
        ({"content_type": "text/html"}, "type_not_allowed"),
        ({"content_type": "", "filename": "cat"}, "type_not_allowed"),
        ({"content_type": None, "filename": "cat.xyz"}, "type_not_allowed"),
        ({"content_type": "application/octet-stream", "filename": "page.html"}, "type_not_allowed"),
        ({"filename": "page.html", "content_type": "image/png"}, "type_not_allowed"),
        ({"filename": "movie.mp4", "content_type": "image/png"}, "type_not_allowed"),
        ({"name": "n" * 201}, "invalid_request"),
        ({"caption": "c" * 501}, "invalid_request"),
        ({"caption": ["not", "text"]}, "invalid_request"),
    ],
)
def test_check_upload_request_refuses(fields, code):
    with pytest.raises(Refusal) as refused:
        check(**fields)
    assert refused.value.code == code
    assert refused.value.status == 400
    assert refused.value.message


@pytest.mark.parametrize(
    ("filename", "browser_type", "stored_type"),
    [
        ("IMG_0001.MOV", "", "video/quicktime"),  # Chromium on Linux sends no type for .MOV
        ("IMG_0001.MOV", "application/octet-stream", "video/quicktime"),
        ("IMG_0001.MOV", "video/quicktime", "video/quicktime"),
        ("voice memo.m4a", "audio/x-m4a", "audio/mp4"),  # Chromium's name for .m4a
        ("voice memo.m4a", "", "audio/mp4"),
        ("IMG_1234.HEIC", "", "image/heic"),
        ("IMG_1234.heic", "image/heic", "image/heic"),
        ("photo.heif", "", "image/heif"),
        ("clip.mp4", "", "video/mp4"),  # ambiguous extensions take the first allowed type
    ],
)
def test_browser_types_are_normalised_or_taken_from_the_extension(filename, browser_type, stored_type):
    assert check(filename=filename, content_type=browser_type).content_type == stored_type


def test_a_declared_type_is_never_replaced_by_the_extensions():
    with pytest.raises(Refusal):
        check(filename="IMG_0001.MOV", content_type="image/png")


def test_heic_is_stored_but_not_previewed():
    assert rules.preview_kind("image/heic") is None and rules.preview_kind("image/heif") is None
    assert not rules.may_render_inline("text/html")


def test_refuses_a_body_that_is_not_an_object():
    with pytest.raises(Refusal) as refused:
        rules.check_upload_request(["x"], allowed_types=DEFAULT_ALLOWED_TYPES, max_bytes=1000)
    assert refused.value.code == "invalid_request"


def test_too_large_message_names_the_limit():
    with pytest.raises(Refusal) as refused:
        rules.check_upload_request(
            {"filename": "a.png", "content_type": "image/png", "size": 150_000_000},
            allowed_types=DEFAULT_ALLOWED_TYPES,
            max_bytes=100_000_000,
        )
    assert "150 MB" in refused.value.message and "100 MB" in refused.value.message


@pytest.mark.parametrize(
    ("filename", "content_type", "inline", "expected"),
    [
        ("cat.png", "image/png", False, 'attachment; filename="cat.png"'),
        ("cat.png", "image/png", True, 'inline; filename="cat.png"'),
        ("page.svg", "image/svg+xml", True, 'attachment; filename="page.svg"'),
        ("x.html", "text/html", True, 'attachment; filename="x.html"'),
        (
            "Fête.png",
            "image/png",
            False,
            "attachment; filename=\"Fete.png\"; filename*=UTF-8''F%C3%AAte.png",
        ),
        ("東京.jpg", "image/jpeg", False, "attachment; filename=\"download.jpg\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.jpg"),
        ('a"b;c.png', "image/png", False, "attachment; filename=\"a_b_c.png\"; filename*=UTF-8''a%22b%3Bc.png"),
    ],
)
def test_content_disposition(filename, content_type, inline, expected):
    assert rules.content_disposition(filename, content_type, inline=inline) == expected


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1 kB"), (1536, "1.5 kB"),
     (100_000_000, "100 MB"), (5 * 1024**3, "5.4 GB")],
)
def test_human_size(size, shown):
    assert rules.human_size(size) == shown


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [("image/png", "image"), ("video/mp4", "video"), ("audio/mpeg", "audio"),
     ("application/pdf", None), ("image/svg+xml", None)],
)
def test_preview_kind(content_type, kind):
    assert rules.preview_kind(content_type) == kind


def test_allowed_types_in_words_grouped_by_family_from_the_one_list():
    assert rules.type_words(DEFAULT_ALLOWED_TYPES) == (
        "images (JPEG, PNG, WebP, GIF, HEIC, HEIF), video (MP4, MOV, WebM), "
        "audio (MP3, M4A, Ogg, WAV, WebM, FLAC) and PDF documents")
    assert rules.type_words(["image/png", "image/jpeg"]) == "images (JPEG, PNG)"  # the listing order, not the given
    assert rules.type_words(["application/pdf"]) == "PDF documents"
    assert rules.type_words(["audio/wav", "audio/x-wav", "text/plain"]) == "audio (WAV) and plain text files"
    assert rules.type_words(["video/mp4", "model/gltf"]) == "video (MP4) and model/gltf"


def test_a_refused_type_says_what_is_allowed_in_words():
    with pytest.raises(rules.Refusal) as refused:
        rules.check_upload_request({"filename": "a.zip", "content_type": "application/zip", "size": 5},
                                   allowed_types=("image/png", "application/pdf"), max_bytes=100)
    assert refused.value.message == ("Files of type application/zip cannot be uploaded here: only images (PNG) "
                                     "and PDF documents.")

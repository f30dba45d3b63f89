"""Measuring media and making clean copies, from real files made here (Pillow, wave, mutagen)."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from PIL import ExifTags, Image

from webapp import media_info
from webapp.media_info import RangedFile, Unprocessable

DEVICE_TAGS = {0x010F, 0x0110, 0x0131}  # Make, Model, Software


def photo(size=(1200, 800), orientation: int = 1, fmt: str = "JPEG", **options) -> bytes:
    """A gradient photo with a phone's metadata: camera, software, GPS position, orientation."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Canon", "EOS 5D", "Firmware 1.2"
    exif[media_info.EXIF_ORIENTATION] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 0.0)})
    out = io.BytesIO()
    image.save(out, fmt, exif=exif, **options)
    return out.getvalue()


def exif_of(data: bytes) -> tuple[dict, dict]:
    exif = Image.open(io.BytesIO(data)).getexif()
    return dict(exif), dict(exif.get_ifd(ExifTags.IFD.GPSInfo))


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


def ranged(data: bytes, **options) -> RangedFile:
    return RangedFile(lambda start, length: data[start:start + length], len(data), **options)


def test_the_made_photo_really_carries_gps_and_camera_exif():
    tags, gps = exif_of(photo())
    assert DEVICE_TAGS <= set(tags) and gps[1] == "N" and gps[2] == (52.0, 22.0, 1.0)


@pytest.mark.parametrize("progressive", [False, True])
def test_clean_jpeg_has_the_same_pixels_and_no_metadata(progressive):
    original = photo(progressive=progressive) + b"\xff\xd8appended image with its own EXIF\xff\xd9"
    clean = media_info.strip_jpeg(original)
    tags, gps = exif_of(clean)
    assert tags == {} and gps == {}
    assert pixels(clean) == pixels(original)  # copied, not re-encoded
    assert clean.endswith(b"\xff\xd9") and b"appended" not in clean and b"Canon" not in clean


def test_clean_jpeg_keeps_only_the_orientation_and_the_colour_profile():
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = photo(orientation=6, icc_profile=icc)
    clean = media_info.clean_copy(original, "image/jpeg").body
    tags, gps = exif_of(clean)
    assert tags == {media_info.EXIF_ORIENTATION: 6} and gps == {}
    assert Image.open(io.BytesIO(clean)).info.get("icc_profile") == icc


def test_clean_png_and_webp_drop_exif_and_text():
    image = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 1.0)})
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "Home address")
    png, webp = io.BytesIO(), io.BytesIO()
    image.save(png, "PNG", exif=exif, pnginfo=text)
    image.save(webp, "WEBP", exif=exif, lossless=True)
    for data, content_type in ((png.getvalue(), "image/png"), (webp.getvalue(), "image/webp")):
        assert exif_of(data)[0]  # there was metadata to remove
        clean = media_info.clean_copy(data, content_type).body
        assert exif_of(clean) == ({}, {})
        assert b"Home address" not in clean and b"Canon" not in clean
        assert pixels(clean) == pixels(data)


def test_clean_gif_keeps_every_frame_and_the_loop_but_no_comment_or_xmp():
    frames = [Image.new("RGB", (40, 30), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=100,
                   comment=b"Shot at 12 Lake Road")
    data = out.getvalue()
    flags = data[10]
    start = 13 + (3 * (2 << (flags & 0x07)) if flags & 0x80 else 0)
    xmp = b"<x:xmpmeta><exif:GPSLatitude>52,22N</exif:GPSLatitude></x:xmpmeta>"
    xmp_block = b"\x21\xff\x0bXMP DataXMP" + bytes([len(xmp)]) + xmp + b"\x00"
    data = data[:start] + xmp_block + data[start:]
    assert Image.open(io.BytesIO(data)).n_frames == 3  # still a valid GIF with the XMP in it

    clean = media_info.clean_copy(data, "image/gif").body
    assert b"Lake Road" not in clean and b"GPSLatitude" not in clean
    original, cleaned = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(clean))
    assert cleaned.n_frames == 3 and cleaned.info.get("loop") == 0 and "comment" not in cleaned.info
    for frame in range(3):
        original.seek(frame)
        cleaned.seek(frame)
        assert original.convert("RGB").tobytes() == cleaned.convert("RGB").tobytes()


@pytest.mark.parametrize(
    ("fmt", "content_type", "options"),
    [("JPEG", "image/jpeg", {}), ("PNG", "image/png", {}), ("WEBP", "image/webp", {}),
     ("GIF", "image/gif", {}), ("HEIF", "image/heic", {})],
)
def test_thumbnails_and_size_for_each_image_type(fmt, content_type, options):
    image = Image.linear_gradient("L").resize((1600, 1000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, fmt, **options)
    result = media_info.process_image(out.getvalue(), content_type)
    assert (result.width, result.height) == (1600, 1000)
    made = {rendition.name: rendition for rendition in result.renditions}
    sizes = {name: Image.open(io.BytesIO(r.body)).size for name, r in made.items() if name.startswith("thumb")}
    assert sizes == {"thumb-320.jpg": (320, 200), "thumb-1280.jpg": (1280, 800)}
    assert all(made[name].content_type == "image/jpeg" for name in sizes)
    assert result.metadata_stripped


def test_thumbnails_are_upright_and_carry_no_exif():
    data = photo(size=(1200, 800), orientation=6)  # stored landscape, shown portrait
    assert media_info.image_size(data) == (800, 1200)
    for size, body in media_info.thumbnails(data).items():
        thumb = Image.open(io.BytesIO(body))
        assert thumb.size == ((213, 320) if size == 320 else (800, 1200))
        assert exif_of(body) == ({}, {})


def test_transparent_images_are_laid_on_white():
    image = Image.new("RGBA", (400, 400), (255, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    thumb = Image.open(io.BytesIO(media_info.thumbnails(out.getvalue(), (320,))[320]))
    assert thumb.getpixel((10, 10)) == (255, 255, 255)


def test_small_images_are_not_enlarged():
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "blue").save(out, "PNG")
    assert {Image.open(io.BytesIO(b)).size for b in media_info.thumbnails(out.getvalue()).values()} == {(50, 40)}


def test_draft_decodes_fewer_pixels_with_the_same_result_size():
    data = photo(size=(4000, 3000))
    fast = Image.open(io.BytesIO(media_info.thumbnails(data, (320,), draft=True)[320]))
    full = Image.open(io.BytesIO(media_info.thumbnails(data, (320,), draft=False)[320]))
    assert fast.size == full.size == (320, 240)
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (320, 320))
    assert image.size == (500, 375)  # libjpeg decodes an eighth of each side


def test_a_picture_nothing_reads_fails_and_has_no_clean_copy():
    result = media_info.process_image(b"\xff\xd8\xff\xe0" + b"\x00" * 200, "image/jpeg")
    assert (result.state, result.metadata_stripped, result.renditions) == ("failed", False, [])
    assert "metadata cannot be removed" in result.reason


@pytest.mark.parametrize("cut", ["no end marker", "truncated"])
def test_jpegs_cut_short_are_cleaned_without_decoding_and_still_get_thumbnails(cut):
    whole = photo(size=(1600, 1200), progressive=cut == "truncated")
    data = whole[:-2] if cut == "no end marker" else whole[:len(whole) * 2 // 3]
    with pytest.raises(OSError, match="truncated"):  # Pillow alone refuses it
        Image.open(io.BytesIO(data)).load()
    result = media_info.process_image(data, "image/jpeg")
    assert (result.state, result.metadata_stripped, result.width, result.height) == ("ready", True, 1600, 1200)
    made = {rendition.name: rendition.body for rendition in result.renditions}
    assert set(made) == {"clean.jpg", "thumb-320.jpg", "thumb-1280.jpg"}
    for body in made.values():
        assert exif_of(body) == ({}, {}) and b"Canon" not in body
    clean = made["clean.jpg"]
    assert clean.endswith(b"\xff\xd9") and data.endswith(clean[clean.index(b"\xff\xda"):-2])  # copied as it came
    assert Image.open(io.BytesIO(made["thumb-320.jpg"])).size == (320, 240)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # tolerated for that decode only
    with pytest.raises(OSError, match="truncated"):
        Image.open(io.BytesIO(data)).load()


def test_the_clean_copy_needs_no_decoder(monkeypatch):
    """A JPEG Pillow cannot open at all is still cleaned, orientation kept, from its segments."""
    data = photo(orientation=6)
    monkeypatch.setattr(media_info, "_open", lambda *args, **kwargs: (_ for _ in ()).throw(Unprocessable("no")))
    result = media_info.process_image(data, "image/jpeg")
    assert result.state == "failed" and result.metadata_stripped
    [clean] = result.renditions
    assert exif_of(clean.body) == ({media_info.EXIF_ORIENTATION: 6}, {})


def test_over_a_limit_is_skipped_and_still_cleaned(monkeypatch):
    monkeypatch.setattr(media_info, "MAX_IMAGE_PIXELS", 1000)
    result = media_info.process_image(photo(size=(40, 30)), "image/jpeg")
    assert result.state == "skipped" and "million pixels" in result.reason
    assert [r.name for r in result.renditions] == ["clean.jpg"] and result.metadata_stripped
    heic = io.BytesIO()
    Image.new("RGB", (40, 30)).save(heic, "HEIF")
    result = media_info.process_image(heic.getvalue(), "image/heic")
    assert result.state == "skipped" and result.renditions == [] and not result.metadata_stripped  # withheld
    monkeypatch.setattr(media_info, "MAX_DECODE_BYTES", 100)
    assert media_info.process_image(photo(size=(4, 3)), "image/jpeg").state == "skipped"


# Video -------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def mp4(width=1920, height=1080, seconds=12.5, timescale=1000, moov_last=True, mdat_bytes=3_000_000,
        rotate=False, version=0) -> bytes:
    """An ISO base media file as encoders write it: ftyp, mdat, moov (or moov first: fast start)."""
    duration = int(seconds * timescale)
    if version == 1:
        mvhd = full_box(b"mvhd", 1, struct.pack(">QQIQ", 0, 0, timescale, duration) + b"\0" * 80)
    else:
        mvhd = full_box(b"mvhd", 0, struct.pack(">IIII", 0, 0, timescale, duration) + b"\0" * 80)
    matrix = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000) if rotate else \
        (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd_times = struct.pack(">IIIII", 0, 0, 1, 0, duration)
    tkhd = full_box(b"tkhd", 0, tkhd_times + b"\0" * 8 + struct.pack(">hhhh", 0, 0, 0, 0)
                    + struct.pack(">9i", *matrix) + struct.pack(">II", width << 16, height << 16))
    sound_tkhd = full_box(b"tkhd", 0, tkhd_times + b"\0" * 16 + struct.pack(">9i", *matrix) + b"\0" * 8)
    hdlr = lambda kind: full_box(b"hdlr", 0, b"\0\0\0\0" + kind + b"\0" * 12 + b"\0")  # noqa: E731
    sound = box(b"trak", sound_tkhd + box(b"mdia", hdlr(b"soun")))
    video = box(b"trak", tkhd + box(b"mdia", hdlr(b"vide")))
    moov = box(b"moov", mvhd + sound + video)
    ftyp = box(b"ftyp", b"isom\0\0\2\0isomiso2avc1mp41")
    mdat = box(b"mdat", b"\0" * mdat_bytes)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


@pytest.mark.parametrize("moov_last", [True, False])
def test_video_size_and_duration_read_only_the_ranges_needed(moov_last):
    data = mp4(moov_last=moov_last)
    file = ranged(data, block=4096)
    assert media_info.iso_video_info(file) == {"width": 1920, "height": 1080, "duration_seconds": 12.5, "has_audio": True}
    assert file.fetched <= 3 * 4096  # the 3 MB of mdat are stepped over, never read


def test_portrait_video_and_64_bit_durations():
    info = media_info.iso_video_info(ranged(mp4(rotate=True, version=1, seconds=3600.25)))
    assert info == {"width": 1080, "height": 1920, "duration_seconds": 3600.25, "has_audio": True}


def test_a_file_without_moov_is_unprocessable():
    with pytest.raises(Unprocessable):
        media_info.iso_video_info(ranged(box(b"ftyp", b"isom\0\0\0\0") + box(b"mdat", b"\0" * 100)))


# Audio and PDF -----------------------------------------------------------------------------


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\0\0" * int(seconds * rate))
    return out.getvalue()


def test_audio_duration_and_tags(tmp_path):
    from mutagen.id3 import TIT2, TPE1
    from mutagen.wave import WAVE

    path = tmp_path / "song.wav"
    path.write_bytes(wav(2.5))
    tagged = WAVE(path)
    tagged.add_tags()
    tagged.tags.add(TIT2(encoding=3, text="Evening"))
    tagged.tags.add(TPE1(encoding=3, text="The Lake Band"))
    tagged.save()
    info = media_info.audio_info(ranged(path.read_bytes(), name="song.wav"))
    assert info == {"duration_seconds": 2.5, "tags": {"title": "Evening", "artist": "The Lake Band"}}


def test_audio_that_is_not_audio_is_unprocessable():
    with pytest.raises(Unprocessable):
        media_info.audio_info(ranged(b"RIFF\0\0\0\0WAVEnothing"))


def test_pdf_page_count():
    image = Image.new("RGB", (200, 300), "white")
    out = io.BytesIO()
    image.save(out, "PDF", save_all=True, append_images=[image] * 4)
    assert media_info.pdf_pages(ranged(out.getvalue())) == 5
    with pytest.raises(Unprocessable):
        media_info.pdf_pages(ranged(b"%PDF-1.7\nnot really"))


def test_ranged_reads_are_capped():
    file = ranged(b"x" * 10_000, block=1000, budget=3000)
    assert file.pread(0, 2500) == b"x" * 2500
    with pytest.raises(Unprocessable):
        file.pread(5000, 2000)


# WebM (EBML) -------------------------------------------------------------------------------


def element(element_id: int, payload: bytes, *, unknown_size: bool = False) -> bytes:
    """One EBML element: its id as written (marker bits included), an 8-byte size, the payload."""
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown_size else (0x01 << 56 | len(payload)).to_bytes(8, "big")
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size + payload


def webm(width=1280, height=720, seconds: float | None = 7.25, cluster_bytes=2_000_000, live=False) -> bytes:
    """A WebM as muxers write it: EBML header, then a Segment (of unknown size when recorded live
    by a browser) holding Info, Tracks (audio first), then clusters of media data."""
    header = element(0x1A45DFA3, element(0x4282, b"webm"))
    info = element(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if seconds is not None:
        info += element(0x4489, struct.pack(">d", seconds * 1000))  # in milliseconds at this scale
    audio = element(0xAE, element(0xD7, b"\x01") + element(0x83, b"\x02"))
    video = element(0xAE, element(0xD7, b"\x02") + element(0x83, b"\x01")
                    + element(0xE0, element(0xB0, width.to_bytes(2, "big")) + element(0xBA, height.to_bytes(2, "big"))))
    cluster = element(0x1F43B675, b"\0" * cluster_bytes, unknown_size=live)
    segment = element(0x1549A966, info) + element(0x1654AE6B, audio + video) + cluster
    return header + element(0x18538067, segment, unknown_size=live)


@pytest.mark.parametrize("live", [False, True])
def test_webm_size_and_duration_from_its_first_bytes(live):
    data = webm(live=live)
    file = ranged(data, block=64 * 1024)
    assert media_info.ebml_info(file, head_bytes=64 * 1024) == {"width": 1280, "height": 720, "duration_seconds": 7.25, "has_audio": True}
    assert file.fetched == 64 * 1024  # the 2 MB cluster is never read


def test_a_browser_recording_without_duration_gives_its_size():
    assert media_info.ebml_info(ranged(webm(seconds=None, live=True))) == {"width": 1280, "height": 720,
                                                                          "has_audio": True}


def recorded(clusters: list[tuple[int, list[int]]], filler: int = 0) -> bytes:
    """A MediaRecorder WebM: no Duration, live Segment and Clusters (unknown sizes), each Cluster
    a Timestamp then SimpleBlocks (track 1, a relative int16 time, flags, frame bytes)."""
    head = webm(seconds=None, live=True, cluster_bytes=0)
    head = head[:head.rindex(b"\x1f\x43\xb6\x75")]  # drop the empty cluster
    body = b""
    for base, relatives in clusters:
        blocks = b"".join(element(0xA3, b"\x81" + struct.pack(">h", r) + b"\x80" + b"\x1f\x43\xb6\x75" + b"\0" * filler)
                          for r in relatives)  # frame bytes that look like a Cluster id
        body += element(0x1F43B675, element(0xE7, base.to_bytes(4, "big")) + blocks, unknown_size=True)
    return head + body


def test_a_browser_recording_gets_its_duration_from_its_last_cluster():
    data = recorded([(0, [0, 33, 66]), (5000, [0, 1000, 2000]), (9000, [0, 400, 733])], filler=100_000)
    file = ranged(data)
    assert media_info.ebml_info(file)["duration_seconds"] == 9.733  # 9000 + 733 ms
    assert file.fetched <= 1024 * 1024 + 2 * media_info.RANGE_BLOCK_BYTES  # the head and the tail only


def test_a_real_recording_without_its_duration_element(tmp_path):
    """ffmpeg's WebM with its Duration element renamed to an id no reader knows, as MediaRecorder
    writes none: the duration comes from the clusters, to within a frame."""
    import shutil
    import subprocess

    from tests.conftest import missing_tool

    if shutil.which("ffmpeg") is None:
        missing_tool("ffmpeg is not installed (Debian's ffmpeg; scripts/ensure-system-packages installs it)")
    path = tmp_path / "recorded.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "3",
                    "-c:v", "libvpx", "-b:v", "100k", "-an", str(path)], check=True, timeout=60)
    data = path.read_bytes()
    at = data.index(b"\x44\x89")
    stripped = data[:at] + b"\x4f\x89" + data[at + 2:]
    assert "duration_seconds" in media_info.ebml_info(ranged(data))
    found = media_info.ebml_info(ranged(stripped))
    assert (found["width"], found["height"]) == (160, 120) and 2.85 <= found["duration_seconds"] <= 3.0


def test_what_is_not_webm_is_unprocessable():
    with pytest.raises(Unprocessable):
        media_info.ebml_info(ranged(mp4()))


def test_thumbnails_carry_no_comment_of_the_source_jpeg():
    from PIL import Image

    source = io.BytesIO()
    Image.new("RGB", (400, 300), (30, 120, 200)).save(source, "JPEG", comment=b"Taken at 12 Private Road")
    for data in media_info.thumbnails(source.getvalue(), (320,)).values():
        assert b"Private Road" not in data and Image.open(io.BytesIO(data)).info.get("comment") in (None, b"")


def test_a_pdfs_first_page_becomes_its_thumbnails():
    pages = [Image.new("RGB", (595, 842), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    made = media_info.pdf_first_page(out.getvalue())
    first = Image.open(io.BytesIO(made[1280]))
    assert first.format == "JPEG" and first.size == (905, 1280)  # A4, drawn to fit
    red, green, blue = first.getpixel((450, 640))
    assert red > 200 and green < 40 and blue < 40  # the first page, not the second
    assert Image.open(io.BytesIO(made[320])).size == (226, 320)
    with pytest.raises(Unprocessable):
        media_info.pdf_first_page(b"%PDF-1.7\nnot really")

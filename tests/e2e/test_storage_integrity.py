"""Bytes changed on the way to storage, in Chromium: local storage refuses them as S3 does
(the storage gate), the page sends the part again, and what is stored is the file, byte for
byte; a POST changed on the way is refused and the page says so."""

from __future__ import annotations

import hashlib

from tests.e2e.conftest import choose_files, start_upload, wait_until
from tests.support import png_bytes
from webapp.parts import MIB, S3_MIN_PART_BYTES

PARTS = {"max_upload_bytes": 64 * MIB, "multipart_threshold": 8 * MIB, "multipart_part_bytes": S3_MIN_PART_BYTES}


def online(page) -> None:
    """The tests' network namespace has loopback only, so Chromium says ``navigator.onLine`` is
    false; Uppy then holds a failed part until the browser's "online" event. On a real network
    the browser is online and the part is sent again at once: the page is told so here."""
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'onLine', { get: () => true });")


def records(table_items) -> list[dict]:
    return [item for item in table_items() if item["sk"] == "META"]


def test_a_part_changed_in_flight_is_sent_again_and_the_file_stored_intact(serve, page, tmp_path, table_items,
                                                                          aws, settings):
    site = serve(**PARTS)
    data = png_bytes(padding=12 * MIB)  # three parts
    path = tmp_path / "film.png"
    path.write_bytes(data)
    sent: list[str] = []
    answers: list[tuple[str, int]] = []

    def flip_the_second_part_once(route, request):
        if request.method == "PUT" and "partNumber=2" in request.url:
            sent.append("part 2")
            if sent.count("part 2") == 1:
                body = bytearray(request.post_data_buffer)
                body[len(body) // 2] ^= 0x01  # one bit, on the way: same length, other bytes
                route.continue_(post_data=bytes(body))
                return
        route.continue_()

    page.route(f"{settings.aws_endpoint_url}/**", flip_the_second_part_once)
    page.on("response", lambda r: answers.append(("part 2", r.status))
            if r.request.method == "PUT" and "partNumber=2" in r.url else None)
    online(page)
    page.goto(site + "/")
    choose_files(page, path)
    start_upload(page)
    page.wait_for_url(site + "/media/*", timeout=120_000)

    assert sent == ["part 2", "part 2"]  # refused once, sent again
    assert answers == [("part 2", 400), ("part 2", 200)]
    [record] = records(table_items)
    stored = aws.s3.get_object(Bucket=settings.bucket, Key=record["s3_key"])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()
    assert record["size"] == len(data) and record["etag"].endswith("-3")


def test_a_post_changed_in_flight_is_refused_and_the_page_says_so(serve, page, tmp_path, table_items, bucket_keys,
                                                                  settings):
    site = serve()
    path = tmp_path / "photo.png"
    path.write_bytes(png_bytes(padding=2000))
    answers: list[int] = []

    def change_the_signed_type(route, request):
        if request.method == "POST":
            body = request.post_data_buffer
            field = b'name="Content-Type"\r\n\r\nimage/png\r\n'
            assert field in body
            route.continue_(post_data=body.replace(field, b'name="Content-Type"\r\n\r\nimage/gif\r\n'))
            return
        route.continue_()

    page.route(f"{settings.aws_endpoint_url}/**", change_the_signed_type)
    page.on("response", lambda r: answers.append(r.status)
            if r.request.method == "POST" and r.url.startswith(settings.aws_endpoint_url) else None)
    page.goto(site + "/")
    choose_files(page, path)
    start_upload(page)
    wait_until(page, "() => !document.getElementById('upload-error').hidden")
    said = page.locator("#upload-error").inner_text()
    assert "photo.png" in said and "Invalid according to Policy" in said, said
    assert answers and set(answers) == {403}
    assert bucket_keys() == [] and records(table_items) == []
    assert "/media/" not in page.url

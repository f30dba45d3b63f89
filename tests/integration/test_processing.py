"""Processing against moto's server over HTTP: what is derived, stored and recorded after an upload,
through both paths that run it (local mode's completion, and the S3 event on Lambda)."""

from __future__ import annotations

import copy
import io
import json

import pytest
from PIL import ExifTags, Image

from tests.support import Api, post_to_storage, s3_event
from tests.unit.test_media_info import DEVICE_TAGS, mp4, photo, wav, webm
from webapp import events, rules
from webapp.flows import ownership, processing


@pytest.fixture
def site(make_app):
    app = make_app(max_upload_bytes=5_000_000)
    return app, Api(app.test_client()), app.extensions["mediahub"]


@pytest.fixture
def read_object(aws, settings):
    def read(key: str) -> tuple[bytes, dict]:
        answer = aws.s3.get_object(Bucket=settings.bucket, Key=key)
        return answer["Body"].read(), answer

    return read


def exif_of(data: bytes) -> tuple[dict, dict]:
    exif = Image.open(io.BytesIO(data)).getexif()
    return dict(exif), dict(exif.get_ifd(ExifTags.IFD.GPSInfo))


def uploaded(api: Api, data: bytes, filename: str, content_type: str) -> dict:
    answer = api.upload(data, filename=filename, content_type=content_type)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["media"]


def test_photo_with_gps_keeps_it_in_the_original_and_nowhere_else(site, read_object):
    app, api, svc = site
    data = photo(size=(1600, 1200), orientation=6)
    media = uploaded(api, data, "holiday.jpg", "image/jpeg")  # local mode: processed on completion
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "ready" and record["metadata_stripped"] is True
    assert (record["width"], record["height"]) == (1200, 1600)  # as shown: the photo is portrait
    assert record["renditions"] == {
        "thumb_320": f"renditions/{media['id']}/thumb-320.jpg",
        "thumb_1280": f"renditions/{media['id']}/thumb-1280.jpg",
        "clean": f"renditions/{media['id']}/clean.jpg",
    }

    original, _ = read_object(record["s3_key"])
    tags, gps = exif_of(original)
    assert original == data and DEVICE_TAGS <= set(tags) and gps[2] == (52.0, 22.0, 1.0)

    for field, key in record["renditions"].items():
        body, answer = read_object(key)
        tags, gps = exif_of(body)
        assert gps == {} and not DEVICE_TAGS & set(tags), field
        assert set(tags) <= {0x0112}  # at most the orientation, on the clean copy
        assert answer["ContentType"] == "image/jpeg"
        assert answer["ContentDisposition"].startswith('attachment; filename="holiday')
    thumb, _ = read_object(record["renditions"]["thumb_320"])
    assert Image.open(io.BytesIO(thumb)).size == (240, 320)


@pytest.mark.parametrize(
    ("filename", "content_type", "make", "expected"),
    [
        ("clip.mp4", "video/mp4", lambda: mp4(width=640, height=360, seconds=4.0, mdat_bytes=200_000),
         {"width": 640, "height": 360, "duration_seconds": 4.0, "has_audio": True}),
        ("clip.mov", "video/quicktime", lambda: mp4(rotate=True, seconds=2.5, mdat_bytes=1000),
         {"width": 1080, "height": 1920, "duration_seconds": 2.5, "has_audio": True}),
        ("talk.webm", "video/webm", lambda: webm(width=640, height=480, seconds=3.5, cluster_bytes=300_000, live=True),
         {"width": 640, "height": 480, "duration_seconds": 3.5, "has_audio": True}),
        ("note.wav", "audio/wav", lambda: wav(1.5), {"duration_seconds": 1.5}),
        ("scan.pdf", "application/pdf", None, {"pages": 3}),
        ("dot.png", "image/png", None, {"width": 30, "height": 20, "metadata_stripped": True}),
    ],
)
def test_metadata_for_each_kind(site, filename, content_type, make, expected):
    app, api, svc = site
    if make is None:
        image = Image.new("RGB", (30, 20), "green")
        out = io.BytesIO()
        image.save(out, "PDF" if content_type == "application/pdf" else "PNG",
                   **({"save_all": True, "append_images": [image, image]} if content_type == "application/pdf" else {}))
        data = out.getvalue()
    else:
        data = make()
    if content_type == "video/quicktime":
        data = data.replace(b"ftypisom", b"ftypqt  ", 1)
    media = uploaded(api, data, filename, content_type)
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "ready"
    assert {name: record.get(name) for name in expected} == expected
    assert ("renditions" in record) == (content_type.startswith("image/") or content_type == "application/pdf")


def test_processing_twice_gives_the_same_renditions_and_one_record_update(site, read_object, bucket_keys, monkeypatch):
    app, api, svc = site
    writes = []
    finish = svc.catalog.finish_processing
    monkeypatch.setattr(svc.catalog, "finish_processing",
                        lambda media_id, values: writes.append(finish(media_id, values)) or writes[-1])
    media = uploaded(api, photo(), "a.jpg", "image/jpeg")
    record = svc.catalog.get_media(media["id"])
    stored = {key: read_object(key)[0] for key in record["renditions"].values()}

    assert processing.process(svc, media["id"]) == "already"  # a repeated event: nothing to do
    # Two runs at once: the second read the record before the first wrote it. It writes the
    # same objects again, and its record update is refused.
    stale = {key: value for key, value in record.items()
             if key not in ("processing", "renditions", "width", "height", "metadata_stripped", "processed_at")}
    monkeypatch.setattr(svc.catalog, "get_media", lambda media_id: dict(stale))
    assert processing.process(svc, media["id"]) == "already"
    assert writes == [True, False]
    monkeypatch.undo()
    assert svc.catalog.get_media(media["id"]) == record
    assert {key: read_object(key)[0] for key in record["renditions"].values()} == stored
    assert sorted(bucket_keys()) == sorted([record["s3_key"], *record["renditions"].values()])


def test_a_jpeg_cut_short_goes_to_viewers_clean(site, read_object):
    app, api, svc = site
    cut = photo(size=(1600, 1200))[:-2]  # no end marker: browsers show it, Pillow alone refuses it
    media = uploaded(api, cut, "cut.jpg", "image/jpeg")
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "ready" and record["metadata_stripped"] is True
    assert set(record["renditions"]) == {"clean", "thumb_320", "thumb_1280"}
    answer = api.client.get(media["links"]["download"])
    assert answer.status_code == 302 and "/renditions/" in answer.headers["Location"]


def test_an_image_that_cannot_be_cleaned_is_withheld_and_its_owner_told(site, capsys, monkeypatch):
    app, api, svc = site
    counted = []
    monkeypatch.setattr(processing, "count", lambda name, *args, **kwargs: counted.append(name))
    broken = b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00" + b"GPS 52N" * 3000  # its segments run off the end
    media = uploaded(api, broken, "private-name.jpg", "image/jpeg")
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "failed" and record["status"] == "ready"
    assert "metadata cannot be removed" in record["processing_reason"]
    assert "renditions" not in record and "width" not in record
    assert counted == ["ProcessingFailed"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [failure] = [line for line in lines if line.get("message") == "processing failed"]
    assert failure["content_type"] == "image/jpeg"
    assert "private-name" not in json.dumps(lines) and media["id"] not in json.dumps(failure)

    for link in (media["links"]["download"], media["links"]["share"]):  # viewers: withheld, never the original
        answer = api.client.get(link)
        assert answer.status_code == 409 and "withheld" in answer.get_data(as_text=True)
    answer = api.client.get(media["links"]["download"], headers={"Accept": "application/json"})
    assert answer.status_code == 409
    page = api.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert 'id="withheld"' in page and "metadata cannot be removed" in page
    assert processing.process(svc, media["id"]) == "already"  # not retried for ever
    assert processing.reprocess(svc, media["id"]) == "failed"  # unless asked to


def test_over_the_pixel_limit_is_skipped_without_decoding_and_still_cleaned(site, monkeypatch):
    app, api, svc = site
    monkeypatch.setattr("webapp.media_info.MAX_IMAGE_PIXELS", 10_000)
    media = uploaded(api, photo(size=(200, 100)), "big.jpg", "image/jpeg")
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "skipped" and "million pixels" in record["processing_reason"]
    assert list(record["renditions"]) == ["clean"]
    page = api.client.get(media["links"]["manage"]).get_data(as_text=True)
    assert "Processing was skipped" in page and 'id="withheld"' not in page


def test_the_s3_event_processes_an_upload_whose_callback_never_came(site, settings):
    app, api, svc = site
    data = photo()
    policy = api.start(data, filename="late.jpg", content_type="image/jpeg").get_json()
    assert post_to_storage(policy, data, "late.jpg", "image/jpeg").status_code == 201
    key = policy["fields"]["key"]
    media_id = rules.media_id_from_key(key)
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["recorded"] == 1
    record = svc.catalog.get_media(media_id)
    assert record["processing"] == "ready" and record["renditions"]["clean"].startswith("renditions/")
    # A rendition key is not an upload: were its event wired, it would be ignored, not removed.
    assert events.object_created(s3_event(settings.bucket, record["renditions"]["clean"]), services=svc)["ignored"] == 1


def test_the_s3_event_processes_an_item_the_callback_recorded(make_app, settings):
    """On AWS the callback records and the event processes: local mode off for the callback."""
    app = make_app(max_upload_bytes=5_000_000)
    api, svc = Api(app.test_client()), app.extensions["mediahub"]
    on_aws = copy.copy(svc.settings)
    object.__setattr__(on_aws, "local_mode", False)  # only this flag: the endpoints stay moto's
    svc.settings = on_aws
    media = uploaded(api, photo(), "b.jpg", "image/jpeg")
    assert "processing" not in svc.catalog.get_media(media["id"])  # the request stayed fast
    key = svc.catalog.get_media(media["id"])["s3_key"]
    assert events.object_created(s3_event(settings.bucket, key), services=svc)["already"] == 1
    assert svc.catalog.get_media(media["id"])["processing"] == "ready"


def test_deleting_and_expiring_remove_the_renditions(site, bucket_keys):
    app, api, svc = site
    kept = uploaded(api, photo(), "kept.jpg", "image/jpeg")
    deleted = uploaded(api, photo(), "deleted.jpg", "image/jpeg")
    expiring = api.upload(photo(), filename="short.jpg", content_type="image/jpeg", retention_days=1).get_json()["media"]
    assert len([key for key in bucket_keys() if key.startswith("renditions/")]) == 9
    ownership.delete_media(svc, svc.catalog.get_media(deleted["id"]))
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + 2 * 86400
    assert events.cleanup(services=svc)["expired"] == 1
    left = sorted(bucket_keys())
    assert left == sorted([f"uploads/{kept['id']}/kept.jpg",
                           *svc.catalog.get_media(kept["id"])["renditions"].values()])
    assert not [key for key in left if deleted["id"] in key or expiring["id"] in key]


def test_in_local_mode_the_completion_answer_already_has_the_thumbnails(make_app):
    """Local mode processes on completion, so its answer says so (on AWS it says pending and the
    S3 event does the work)."""
    from tests.support import Api, png_bytes

    api = Api(make_app().test_client())
    media = api.upload(png_bytes(width=40, height=30)).get_json()["media"]
    assert media["processing"] == "ready" and (media["width"], media["height"]) == (40, 30)
    assert "thumbnail" in media["links"]


BROKEN_JPEG = b"\xff\xd8\xff\xe1\x00\x40Exif\x00\x00" + b"GPS 52N" * 3000  # segments run off the end


def test_reprocess_failed_runs_failed_and_stuck_items_again_from_the_command_line(site, monkeypatch):
    from click.testing import CliRunner

    from webapp import cli
    from webapp.config import Settings

    app, api, svc = site
    good = uploaded(api, photo(), "good.jpg", "image/jpeg")
    broken = uploaded(api, BROKEN_JPEG, "broken.jpg", "image/jpeg")
    stuck = uploaded(api, photo(), "stuck.jpg", "image/jpeg")
    svc.catalog.set_fields(stuck["id"], {"processing": "pending", "created_at": "2026-01-01T00:00:00Z"},
                           remove=("renditions",))  # as an event that ran out of memory leaves it
    assert svc.catalog.get_media(broken["id"])["processing"] == "failed"

    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls, environ=None: svc.settings))
    monkeypatch.setattr("webapp.create_app", lambda settings: app)
    ran = CliRunner().invoke(cli.main, ["reprocess", "--failed"])
    assert ran.exit_code == 0, ran.output
    assert f"{broken['id']}\tfailed" in ran.output and f"{stuck['id']}\tready" in ran.output
    assert good["id"] not in ran.output and "2 reprocessed" in ran.output
    assert svc.catalog.get_media(stuck["id"])["renditions"]["clean"]

    ran = CliRunner().invoke(cli.main, ["reprocess", good["id"]])
    assert ran.exit_code == 0 and f"{good['id']}\tready" in ran.output
    assert CliRunner().invoke(cli.main, ["reprocess"]).exit_code == 2  # an id, or --failed


def test_the_admin_list_marks_failed_and_skipped_items(make_app, monkeypatch):
    from werkzeug.security import generate_password_hash

    from tests.integration.test_admin import PASSWORD, signed_in

    app = make_app(max_upload_bytes=5_000_000, admin_user="root", admin_password_hash=generate_password_hash(PASSWORD))
    api = Api(app.test_client())
    fine = uploaded(api, photo(), "fine.jpg", "image/jpeg")
    broken = uploaded(api, BROKEN_JPEG, "broken.jpg", "image/jpeg")
    monkeypatch.setattr("webapp.media_info.MAX_IMAGE_PIXELS", 10_000)
    large = uploaded(api, photo(size=(200, 100)), "large.jpg", "image/jpeg")
    page = signed_in(app).client.get("/admin/").get_data(as_text=True)
    rows = {media_id: page[page.index(f'id="item-{media_id}"'):].split("</tr>", 1)[0]
            for media_id in (fine["id"], broken["id"], large["id"])}
    assert "processing failed" in rows[broken["id"]] and "metadata cannot be removed" in rows[broken["id"]]
    assert "processing skipped" in rows[large["id"]] and "million pixels" in rows[large["id"]]
    assert "badge" not in rows[fine["id"]]


def test_a_pdf_gets_its_first_page_as_thumbnails_and_a_preview_on_its_share_page(site, read_object):
    app, api, svc = site
    pages = [Image.new("RGB", (595, 842), colour) for colour in ("green", "white", "white")]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:])
    media = uploaded(api, out.getvalue(), "report.pdf", "application/pdf")
    record = svc.catalog.get_media(media["id"])
    assert record["processing"] == "ready" and record["pages"] == 3
    assert set(record["renditions"]) == {"thumb_320", "thumb_1280"}
    thumb, stored = read_object(record["renditions"]["thumb_320"])
    assert Image.open(io.BytesIO(thumb)).size == (226, 320) and stored["ContentType"] == "image/jpeg"
    page = api.client.get(media["links"]["share"]).get_data(as_text=True)
    assert 'class="preview"' in page and f"renditions/{media['id']}/thumb-1280.jpg" in page

"""Verified recipients: a share that opens only once this browser proves the recipient's address
with a code mailed to it (moto's SES over HTTP, the app's own clock moved for expiry and waits)."""

import re
import time

import pytest

from tests.integration.test_sharing import LINK, link_for, manage_page, sent_mail, share, shares_by_recipient
from tests.support import Api, png_bytes

CODE = re.compile(r"Your Mediahub code: (\d{6})")


@pytest.fixture
def owner(make_app):
    app = make_app(recipients=("@allowed.com",), mail_from="Mediahub <noreply@mediahub.test>")
    api = Api(app.test_client())
    media = api.upload(png_bytes(padding=200), name="Quarterly plan").get_json()["media"]
    now = [time.time()]
    app.extensions["mediahub"].clock = lambda: now[0]
    return app, api, media, now


def path_of(link: str) -> str:
    return link.split("localhost", 1)[1]


def code_mails(settings) -> list[dict]:
    return [m for m in sent_mail(settings) if CODE.search(m["subject"])]


def latest_code(settings) -> str:
    return CODE.search(code_mails(settings)[-1]["subject"]).group(1)


def ask_code(viewer: Api, link: str, **extra):
    return viewer.client.post(path_of(link) + "/code", data={"csrf_token": viewer.csrf, **extra})


def give_code(viewer: Api, link: str, code: str):
    return viewer.client.post(path_of(link), data={"csrf_token": viewer.csrf, "code": code})


def asks_for_code(answer) -> bool:
    return answer.status_code == 401 and "E-mail me a code" in answer.get_data(as_text=True)


@pytest.fixture
def ann(owner, settings):
    app, api, media, now = owner
    assert share(api, media, "ann@allowed.com", verify="y").status_code == 200
    return link_for(settings, "ann@allowed.com")


def test_a_forwarded_link_asks_for_the_code_and_hands_out_nothing(owner, settings, ann, table_items):
    app, api, media, _ = owner
    [record] = [i for i in table_items() if i.get("recipient") == "ann@allowed.com"]
    assert record["verify"] is True
    [mail] = sent_mail(settings)
    assert "You will be asked to confirm your address" in mail["body"]
    assert "(confirms address)" in shares_by_recipient(api, media)["ann@allowed.com (confirms address)"]["recipient"]

    stranger = Api(app.test_client())
    page = stranger.client.get(path_of(ann))
    assert asks_for_code(page)
    text = page.get_data(as_text=True)
    assert "a•••@allowed.com" in text and "ann@allowed.com" not in text
    assert 'autocomplete="one-time-code"' in text and '<label for="code">' in text
    download = stranger.client.get(path_of(ann) + "/download")
    assert download.status_code == 302 and download.headers["Location"].endswith(path_of(ann))
    assert "Key-Pair-Id" not in download.headers["Location"] and "Signature" not in download.headers["Location"]
    assert shares_by_recipient(api, media)["ann@allowed.com (confirms address)"]["downloads"] == "0"


def test_a_code_goes_to_the_recipient_only_and_is_never_stored(owner, settings, ann, table_items):
    app, _, media, _ = owner
    viewer = Api(app.test_client())
    asked = ask_code(viewer, ann, email="mallory@evil.test", recipient="mallory@evil.test")
    assert asked.status_code == 302 and asked.headers["Location"].endswith(path_of(ann))
    [mail] = code_mails(settings)
    assert mail["destinations"]["ToAddresses"] == ["ann@allowed.com"]
    assert not any(set(m["destinations"].get(k) or []) - {"ann@allowed.com"}
                   for m in code_mails(settings) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
    code = latest_code(settings)
    assert "10 minutes" in mail["body"] and "ignore" in mail["body"]
    assert code not in repr(table_items())
    then = viewer.client.get(path_of(ann))
    assert asks_for_code(then) and "We sent a code to a•••@allowed.com" in then.get_data(as_text=True)


def test_the_right_code_opens_the_share_in_that_browser_only(owner, settings, ann):
    app, api, media, _ = owner
    viewer = Api(app.test_client())
    ask_code(viewer, ann)
    opened = give_code(viewer, ann, latest_code(settings))
    assert opened.status_code == 302 and opened.headers["Location"].endswith(path_of(ann))
    page = viewer.client.get(path_of(ann))
    assert page.status_code == 200 and "Quarterly plan" in page.get_data(as_text=True)
    assert "Key-Pair-Id=" in viewer.client.get(path_of(ann) + "/download").headers["Location"]

    other = Api(app.test_client())
    assert asks_for_code(other.client.get(path_of(ann)))
    assert "Key-Pair-Id" not in other.client.get(path_of(ann) + "/download").headers["Location"]
    # The code is used up: it does not open the share in another browser as well.
    assert give_code(other, ann, latest_code(settings)).status_code == 403
    assert asks_for_code(other.client.get(path_of(ann)))


def test_a_proved_address_opens_its_other_shares_in_that_browser_but_not_other_addresses(owner, settings, ann):
    app, api, media, now = owner
    viewer = Api(app.test_client())
    ask_code(viewer, ann)
    assert give_code(viewer, ann, latest_code(settings)).status_code == 302
    second = api.upload(png_bytes(padding=300), name="Second").get_json()["media"]
    assert share(api, second, "ANN@allowed.com\nbob@allowed.com", verify="y").status_code == 200
    ann_mails = [m for m in sent_mail(settings) if m["destinations"]["ToAddresses"][0].lower() == "ann@allowed.com"
                 and not CODE.search(m["subject"])]
    assert len(ann_mails) == 2
    ann_second = LINK.search(ann_mails[-1]["body"]).group(1)
    bob = link_for(settings, "bob@allowed.com")
    assert ann_second != ann
    assert viewer.client.get(path_of(ann_second)).status_code == 200
    assert asks_for_code(viewer.client.get(path_of(bob)))


def test_wrong_codes_are_refused_and_five_void_the_code(owner, settings, ann):
    app, _, _, now = owner
    viewer = Api(app.test_client())
    ask_code(viewer, ann)
    code = latest_code(settings)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [give_code(viewer, ann, wrong) for _ in range(5)]
    assert [a.status_code for a in answers] == [403] * 5
    assert "4 more tries" in answers[0].get_data(as_text=True)
    assert "1 more try" in answers[3].get_data(as_text=True)
    assert "no longer works" in answers[4].get_data(as_text=True)
    voided = give_code(viewer, ann, code)
    assert voided.status_code == 403 and "Ask for a new code" in voided.get_data(as_text=True)
    assert asks_for_code(viewer.client.get(path_of(ann)))
    now[0] += 61
    ask_code(viewer, ann)
    assert give_code(viewer, ann, latest_code(settings)).status_code == 302
    assert viewer.client.get(path_of(ann)).status_code == 200


def test_an_expired_code_is_refused(owner, settings, ann):
    app, _, _, now = owner
    viewer = Api(app.test_client())
    ask_code(viewer, ann)
    now[0] += 601
    late = give_code(viewer, ann, latest_code(settings))
    assert late.status_code == 403 and "expired" in late.get_data(as_text=True)
    assert asks_for_code(viewer.client.get(path_of(ann)))


def test_one_new_code_a_minute(owner, settings, ann):
    app, _, _, now = owner
    viewer = Api(app.test_client())
    assert ask_code(viewer, ann).status_code == 302
    now[0] += 20
    again = ask_code(Api(app.test_client()), ann)
    assert again.status_code == 429 and again.headers["Retry-After"] == "40"
    assert "wait 40 seconds" in again.get_data(as_text=True)
    assert len(code_mails(settings)) == 1
    now[0] += 40
    assert ask_code(viewer, ann).status_code == 302
    assert len(code_mails(settings)) == 2


def test_both_forms_need_the_csrf_token(owner, settings, ann):
    app, _, _, _ = owner
    viewer = Api(app.test_client())
    assert viewer.client.post(path_of(ann) + "/code").status_code == 400
    assert code_mails(settings) == []
    ask_code(viewer, ann)
    code = latest_code(settings)
    assert viewer.client.post(path_of(ann), data={"code": code}).status_code == 400
    assert asks_for_code(viewer.client.get(path_of(ann)))
    assert give_code(viewer, ann, code).status_code == 302


def test_a_share_without_verification_is_unaffected(owner, settings, table_items):
    app, api, media, _ = owner
    share(api, media, "bob@allowed.com")
    bob = link_for(settings, "bob@allowed.com")
    assert "verify" not in [i for i in table_items() if i.get("recipient") == "bob@allowed.com"][0]
    assert "confirm your address" not in sent_mail(settings)[0]["body"]
    assert shares_by_recipient(api, media)["bob@allowed.com"]["recipient"] == "bob@allowed.com"
    viewer = app.test_client()
    assert viewer.get(path_of(bob)).status_code == 200
    assert "Key-Pair-Id=" in viewer.get(path_of(bob) + "/download").headers["Location"]
    # Asking for a code on such a link sends nothing and just opens the page.
    api_viewer = Api(app.test_client())
    assert ask_code(api_viewer, bob).status_code == 302
    assert code_mails(settings) == []


def test_a_password_comes_first_then_the_code(owner, settings):
    app, api, media, _ = owner
    share(api, media, "ann@allowed.com", verify="y", password="correct horse")
    ann = link_for(settings, "ann@allowed.com")
    viewer = Api(app.test_client())
    assert 'type="password"' in viewer.client.get(path_of(ann)).get_data(as_text=True)
    assert ask_code(viewer, ann).status_code == 302 and code_mails(settings) == []
    unlocked = viewer.client.post(path_of(ann), data={"csrf_token": viewer.csrf, "password": "correct horse"})
    assert unlocked.status_code == 302
    assert asks_for_code(viewer.client.get(path_of(ann)))
    ask_code(viewer, ann)
    assert give_code(viewer, ann, latest_code(settings)).status_code == 302
    assert viewer.client.get(path_of(ann)).status_code == 200


def test_parallel_guesses_take_no_more_than_the_allowed_tries(owner, settings, ann):
    """Twenty wrong codes at once: each try is counted before it is checked, in one conditional
    update, so at most five are ever checked and the right code no longer works afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    app, _, _, _ = owner
    viewers = [Api(app.test_client()) for _ in range(20)]
    assert ask_code(viewers[0], ann).status_code in (200, 302)
    code = latest_code(settings)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda viewer: give_code(viewer, ann, wrong), viewers))
    bodies = [answer.get_data(as_text=True) for answer in answers]
    checked = [body for body in bodies if "is not right" in body]
    assert len(checked) <= 5 and all(answer.status_code == 403 for answer in answers)
    voided = give_code(viewers[0], ann, code)  # voided: the right code is refused too
    assert voided.status_code == 403 and "E-mail me a code" in voided.get_data(as_text=True)
    assert asks_for_code(viewers[0].client.get(path_of(ann)))


def test_parallel_requests_send_one_code(owner, settings, ann):
    from concurrent.futures import ThreadPoolExecutor

    app, _, _, _ = owner
    viewers = [Api(app.test_client()) for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda viewer: ask_code(viewer, ann), viewers))
    assert sorted(answer.status_code for answer in answers).count(429) == 9
    assert len(code_mails(settings)) == 1


def test_a_share_has_a_bounded_number_of_codes(owner, settings, ann):
    """Each code brings five guesses; a share gets ten codes in all, so a forwarded link's holder
    has at most fifty guesses at a million codes, however long the link lasts."""
    from webapp.flows import verification

    app, _, _, now = owner
    viewer = Api(app.test_client())
    for _ in range(verification.MAX_CODES):
        assert ask_code(viewer, ann).status_code in (200, 302)
        now[0] += verification.RESEND_SECONDS + 1
    refused = ask_code(viewer, ann)
    assert refused.status_code == 403 and "all the codes it allows" in refused.get_data(as_text=True)
    assert len(code_mails(settings)) == verification.MAX_CODES


def test_the_right_code_works_once_even_when_sent_twice_at_once(owner, settings, ann):
    from concurrent.futures import ThreadPoolExecutor

    app, _, _, _ = owner
    viewers = [Api(app.test_client()) for _ in range(8)]
    ask_code(viewers[0], ann)
    code = latest_code(settings)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda viewer: give_code(viewer, ann, code), viewers))
    assert sorted(answer.status_code for answer in answers).count(302) == 1

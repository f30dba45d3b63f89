"""The owner shares by email from the manage page, and a recipient downloads through the outbox link."""

from tests.e2e.conftest import upload_with_page
from tests.support import png_bytes


def test_owner_shares_and_recipient_downloads(serve, page, tmp_path):
    site = serve(recipients=("@example.com",), mail_from="Mediahub <noreply@mediahub.local>")
    data = png_bytes(width=20, height=20, padding=5000)
    picture = tmp_path / "plan.png"
    picture.write_bytes(data)

    upload_with_page(page, site, picture, name="Plan")
    page.get_by_role("link", name="Open manage page").click()

    page.get_by_label("Recipients (one email address per line)").fill("ann@example.com\nmallory@example.com.evil.io")
    page.get_by_label("Message (optional)").fill("Here is the plan.")
    page.get_by_role("button", name="Send links").click()
    assert page.locator("#sent-to").inner_text() == "ann@example.com"
    refused = page.locator("#refused").inner_text()
    assert "mallory@example.com.evil.io" in refused and "not on the list" in refused
    assert "ann@example.com" in page.locator("#shares").inner_text()
    assert "mallory" not in page.locator("#shares").inner_text()

    page.get_by_role("link", name="Outbox").click()
    assert "ann@example.com" in page.locator(".mail-to").first.inner_text()
    assert page.locator(".mail-to", has_text="mallory").count() == 0
    page.get_by_role("link", name="Open the link sent to ann@example.com").click()
    assert page.get_by_role("heading", name="Plan").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download").click()
    received = open(download_info.value.path(), "rb").read()
    # The clean copy: the same picture without the chunk of private data the original carries.
    assert b"prVt" in data and b"prVt" not in received and received.startswith(b"\x89PNG")
    assert download_info.value.suggested_filename == "plan.png"

import pytest

from webapp import tokens
from webapp.tokens import ShareClaim, ShareTokens

CLAIM = ShareClaim("media-id-0123456789", "share-id-0123456789", 1_900_000_000)


def test_round_trip():
    issued = ShareTokens("k" * 40).issue(CLAIM)
    assert ShareTokens("k" * 40).read(issued) == CLAIM


def test_another_key_cannot_read_or_forge():
    issued = ShareTokens("k" * 40).issue(CLAIM)
    assert ShareTokens("other" * 10).read(issued) is None


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
    lambda t: "x" + t,
    lambda t: t.split(".")[0],
    lambda t: "",
    lambda t: t * 20,
])
def test_tampered_tokens_are_refused(mutate):
    issued = ShareTokens("k" * 40).issue(CLAIM)
    assert ShareTokens("k" * 40).read(mutate(issued)) is None


def test_changed_expiry_is_refused():
    signer = ShareTokens("k" * 40)
    issued = signer.issue(CLAIM)
    longer = signer.issue(ShareClaim(CLAIM.media_id, CLAIM.share_id, CLAIM.expires_at + 1))
    spliced = longer.split(".")[0] + "." + issued.split(".")[1]
    assert signer.read(spliced) is None


def test_ids_are_long_random_and_url_safe():
    ids = {tokens.new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(tokens.looks_like_id(i) and len(i) >= 22 for i in ids)


def test_secret_hash_comparison():
    secret = tokens.new_secret()
    stored = tokens.secret_hash(secret)
    assert tokens.secret_matches(secret, stored)
    assert not tokens.secret_matches(secret + "x", stored)
    assert not tokens.secret_matches(None, stored)
    assert not tokens.secret_matches(secret, None)


def test_multipart_ids_carry_the_plan_and_the_uploader_and_cannot_be_forged():
    from webapp.tokens import MultipartTicket, UploadTickets

    tickets = UploadTickets("k" * 40)
    ticket = MultipartTicket("m" * 22, "Fête d’été.mov", "s3-upload-" + "x" * 200, "h" * 64,
                             size=5 * 1024**4, part_size=549755814, checksum_algorithm="SHA256")
    upload_id = tickets.multipart_id(ticket)
    assert tickets.read_multipart_id(upload_id) == ticket
    assert tickets.read_multipart_id(upload_id[:-2] + "xx") is None
    assert UploadTickets("o" * 40).read_multipart_id(upload_id) is None
    # A POST upload's id is not a multipart id, nor the other way round.
    assert tickets.read_multipart_id(tickets.upload_id("m" * 22, "a.png")) is None
    assert tickets.read_upload_id(upload_id) is None


def test_short_ids_are_22_url_safe_characters_of_the_key_and_share_and_never_look_like_an_old_token():
    short = tokens.short_id_for("k" * 40, "share-id-0123456789")
    assert len(short) == tokens.SHORT_ID_CHARS == 22 and tokens.looks_like_short_id(short)
    assert short == tokens.short_id_for("k" * 40, "share-id-0123456789")
    assert short != tokens.short_id_for("j" * 40, "share-id-0123456789")
    assert short != tokens.short_id_for("k" * 40, "share-id-0123456780")
    assert not tokens.looks_like_short_id(ShareTokens("k" * 40).issue(CLAIM))
    assert not tokens.looks_like_short_id(short + "x") and not tokens.looks_like_short_id(short[:-1] + ".")

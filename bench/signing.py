"""Signing: raw RSA-2048 signatures against our signed CloudFront links, and a gallery page of
100 items rendered in-process, first and again within one expiry window.

    python -m bench.signing [--quick]
"""

from __future__ import annotations

import argparse
import time

from bench.common import SECRET, aws_stack, machine, median, table


def rate(fn, count: int) -> float:
    started = time.perf_counter()
    for index in range(count):
        fn(index)
    return count / (time.perf_counter() - started)


def signing_rates(count: int, rounds: int) -> tuple[float, float]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from webapp.aws.signing import CloudFrontLinks, cloudfront_policy, new_signing_key

    key = new_signing_key("K2BENCH")
    now = time.time()
    policies = [cloudfront_policy(f"https://d111111abcdef8.cloudfront.net/uploads/{i:06d}/photo.png",
                                  expires_at=int(now) + 300).encode() for i in range(count)]

    def raw(index):
        key.private_key.sign(policies[index], padding.PKCS1v15(), hashes.SHA1())

    raws, ours = [], []
    for round_ in range(rounds):  # alternate, so both see the same machine
        raws.append(rate(raw, count))
        links = CloudFrontLinks("https://d111111abcdef8.cloudfront.net", key, window_seconds=300)
        ours.append(rate(lambda index: links.url_for(  # distinct objects: every link is a fresh signature
            f"uploads/{round_}-{index:06d}/photo.png", filename="photo.png", content_type="image/png",
            expires_at=now + 300, now=now), count))
    return median(raws), median(ours)


def gallery_times(items: int, repeats: int, apps: int) -> tuple[float, float]:
    from webapp import create_app
    from webapp.aws.catalog import Catalog
    from webapp.config import LOCAL_AWS_TIMEOUTS, Settings
    from webapp.dates import iso

    firsts, agains = [], []
    with aws_stack(cdn=True) as (stack, env):
        import logging

        logging.getLogger("mediahub").disabled = True
        settings = Settings(secret_key=SECRET, local_mode=False, bucket=stack.bucket, table=stack.table,
                            aws_endpoint_url=stack.aws_endpoint_url, cdn_url=env["MEDIAHUB_CDN_URL"],
                            cloudfront_keys_secret=env["MEDIAHUB_CLOUDFRONT_KEYS_SECRET"], **LOCAL_AWS_TIMEOUTS)
        app = create_app(settings)
        catalog: Catalog = app.extensions["mediahub"].catalog
        now = time.time()
        for index in range(items):
            media_id = f"benchitem{index:013d}"
            catalog.put_media({
                "id": media_id, "status": "ready", "s3_key": f"uploads/{media_id}/photo-{index}.png",
                "filename": f"photo-{index}.png", "name": f"Photo {index}", "caption": "A picture",
                "content_type": "image/png", "size": 1000, "created_at": iso(now), "expires_at": int(now) + 86400,
                "download_count": 0, "visibility": "public", "gsi2pk": "PUBLIC#" + iso(now)[:7],
                # Processed, as a gallery's items are: each tile is its signed 320 px thumbnail.
                "processing": "ready", "renditions": {"thumb_320": f"renditions/{media_id}/thumb-320.jpg"},
                "gsi2sk": f"{now + index:017.6f}#{media_id}",
            })
        for _ in range(apps):
            client = create_app(settings).test_client()  # a fresh process's state: no cached link
            # CPU time of this process: the app's work. moto answers the index query from its own
            # process, slowly (~0.2 s for 100 items); DynamoDB answers it in milliseconds.
            started = time.process_time()
            page = client.get("/gallery")
            firsts.append(time.process_time() - started)
            assert page.status_code == 200 and page.get_data(as_text=True).count('class="tile"') == items
            assert page.get_data(as_text=True).count("Signature=") == items  # every tile a signed link
            for _ in range(repeats):
                started = time.process_time()
                client.get("/gallery")
                agains.append(time.process_time() - started)
    return median(firsts), median(agains)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few signatures and items: a smoke test")
    args = parser.parse_args(argv)
    count, rounds, items, repeats, apps = (50, 1, 10, 2, 1) if args.quick else (2000, 5, 100, 9, 5)
    raw, ours = signing_rates(count, rounds)
    first, again = gallery_times(items, repeats, apps)
    rows = [
        ["raw RSA-2048 PKCS#1 v1.5 SHA-1 signatures/s", f"{raw:.0f}", "baseline"],
        ["signed CloudFront links/s (every one a new signature)", f"{ours:.0f}", f"{ours / raw:.0%} of raw"],
        [f"gallery of {items}, first render, app CPU ms", f"{first * 1000:.1f}", "baseline"],
        [f"gallery of {items}, again within the window, app CPU ms", f"{again * 1000:.1f}",
         f"{first / again:.1f}x faster"],
    ]
    report = f"Signing ({machine()})\n\n" + table(["measure", "value", "ratio"], rows)
    print(report)
    return report


if __name__ == "__main__":
    main()

"""Local mode only: the mail moto's SES accepted, so a person trying the site can follow the links."""

import html
import re

import requests
from flask import Blueprint, render_template

from webapp import services

bp = Blueprint("outbox", __name__)

LINK = re.compile(r'href="([^"]+)"')
TAG = re.compile(r"<[^>]+>")


def sent_messages(endpoint: str) -> list[dict]:
    data = requests.get(f"{endpoint}/moto-api/data.json", timeout=5).json()
    messages = []
    for message in data.get("ses", {}).get("Message", []):
        body = message.get("body", "")
        messages.append(
            {
                "to": ", ".join(message.get("destinations", {}).get("ToAddresses", [])),
                "subject": message.get("subject", ""),
                "links": [html.unescape(link) for link in LINK.findall(body)],
                "text": " ".join(html.unescape(TAG.sub(" ", body)).split()),
            }
        )
    return list(reversed(messages))


@bp.get("/local/outbox")
def outbox():
    svc = services()
    return render_template("outbox.html", messages=sent_messages(svc.settings.aws_endpoint_url))

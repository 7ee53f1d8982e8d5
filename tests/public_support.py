"""Helpers for the public site and the tip box: residents drive them through the HTTP client."""

import io
import re

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from app.extensions import db
from app.models import Campaign, CampaignUnit
from tests.support import JPEG, PNG  # noqa: F401  (real images: photos are checked by content)

RECEIPT_RE = re.compile(r'id="receipt-code">([A-Z0-9-]+)<')


def csrf_of(client, url: str) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get(url).get_data(as_text=True))


def publish(campaign_id: int) -> tuple[str, dict[int, str]]:
    """Publish a campaign; returns its slug and the public slug of each enrolled unit by unit id."""
    campaign = db.session.get(Campaign, campaign_id)
    campaign.published = True
    db.session.commit()
    slugs = {cu.unit_id: cu.public_slug for cu in db.session.query(CampaignUnit).filter_by(campaign_id=campaign_id)}
    return campaign.public_slug, slugs


def tip_fields(unit_slug: str, **overrides) -> dict:
    fields = {
        "unit": unit_slug,
        "project": "文化广场",
        "description": "广场占用耕地，规模超标。",
        "place": "镇政府东侧",
        "contact": "",
    }
    fields.update(overrides)
    return fields


def post_tip(client, campaign_slug: str, fields: dict, photos=(), remote_addr: str = "203.0.113.7"):
    url = f"/public/c/{campaign_slug}/tips/new"
    data = {**fields, "csrf_token": csrf_of(client, f"{url}?unit={fields['unit']}")}
    form = MultiDict(data)
    for name, content in photos:
        form.add("photos", FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream"))
    body, length, boundary = stream_encode_multipart(form)
    try:
        return client.post(
            url,
            input_stream=body,
            content_length=length,
            content_type=f'multipart/form-data; boundary="{boundary}"',
            environ_base={"REMOTE_ADDR": remote_addr},
        )
    finally:
        # A body the app refused unread (too large) would otherwise stay open in a temporary file.
        body.close()


def receipt_of(response) -> str:
    match = RECEIPT_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def lookup(client, code: str, remote_addr: str = "203.0.113.7"):
    data = {"code": code, "csrf_token": csrf_of(client, "/public/tips/status")}
    return client.post("/public/tips/status", data=data, environ_base={"REMOTE_ADDR": remote_addr})

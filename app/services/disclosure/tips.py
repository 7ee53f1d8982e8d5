"""The tip box (监督工作箱): residents report a problem; the campaign office accepts it into the
unit's running rectification (a ledger item, source 信访举报) or declines it with a reason."""

import hashlib
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update
from werkzeug.datastructures import FileStorage

from app import clock
from app.errors import Invalid, NotFound
from app.extensions import db
from app.forms import registry as forms
from app.forms.builder import RectifyForm
from app.i18n import LazyText, _l
from app.models import Campaign, CampaignUnit, ProcessInstance, Tip, TipPhoto, TipStatus, Unit, User
from app.models.base import N_
from app.models.roles import TRIAGE_TIPS
from app.services.findings import findings
from app.services.shared import audit, uploads
from app.services.tasks import evidence
from app.services.tasks.tasks import Conflict, FormInvalid

STATUS_NAMES = {"received": N_("待处理"), "accepted": N_("已受理，纳入整改"), "declined": N_("不予受理")}
# No 0/O, 1/I/L: the code is read off paper and typed on a phone.
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECEIPT_LENGTH = 16
# Photos only: the name must say JPG or PNG and the content must be that image, intact and within
# the pixel limit (app/services/shared/uploads.py). What is stored is a re-encoded copy, at most this
# many pixels a side: upright, without the phone's metadata (GPS position included) or anything
# appended to the image, since the office opens these in its browser.
PHOTO_TYPES = ("jpg", "jpeg", "png")
PHOTO_MAX_SIDE = 4096
TEXT_LIMITS = {"project": 200, "place": 200, "contact": 100}


class TipError(Invalid):
    """A report (or a decision on one) to correct; `field` names the input at fault.
    `status` is 413 when its photos are too large, 415 when one is not a photo."""

    code = "tip_invalid"

    def __init__(self, message: str | LazyText, field_name: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field_name
        self.status = status


@dataclass
class TipInput:
    unit_slug: str
    description: str
    place: str
    project: str = ""
    contact: str = ""
    photos: list[FileStorage] = field(default_factory=list)


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# ---- residents -----------------------------------------------------------------


def open_campaign(slug: str) -> Campaign | None:
    """A published campaign takes tips; anything else looks like a missing page."""
    campaign = db.session.scalar(select(Campaign).filter_by(public_slug=slug, published=True))
    return campaign if campaign is not None and campaign.status in ("launching", "launched") else None


def unit_choices(campaign_id: int, unit_slug: str | None = None) -> list[tuple[str, str]]:
    """(public slug, name) of the enrolled units; a province-wide campaign offers only the unit the
    resident came from (its page links here), since a list of 20,000 names is no form for a phone."""
    query = (
        select(CampaignUnit.public_slug, Unit.name)
        .join(Unit, Unit.id == CampaignUnit.unit_id)
        .where(CampaignUnit.campaign_id == campaign_id, CampaignUnit.public_slug.is_not(None))
        .order_by(Unit.code)
    )
    if (
        db.session.scalar(select(func.count()).select_from(CampaignUnit).filter_by(campaign_id=campaign_id))
        > current_app.config["TIP_UNIT_SELECT_MAX"]
    ):
        query = query.where(CampaignUnit.public_slug == (unit_slug or ""))
    return [(slug, name) for slug, name in db.session.execute(query)]


@dataclass
class _Photo:
    upload: FileStorage
    file: uploads.CheckedFile


def _check_photos(photos: list[FileStorage]) -> list[_Photo]:
    """Count, each photo's size, type (by content) and integrity, then the total size."""
    cfg = current_app.config
    if len(photos) > cfg["TIP_MAX_PHOTOS"]:
        raise TipError(_("最多上传 %(n)d 张照片", n=cfg["TIP_MAX_PHOTOS"]), "photos", uploads.TOO_LARGE)
    checked = []
    for photo in photos:
        try:
            checked.append(
                _Photo(
                    photo,
                    uploads.check(
                        photo.stream,
                        photo.filename,
                        PHOTO_TYPES,
                        max_bytes=cfg["TIP_MAX_PHOTO_BYTES"],
                        max_pixels=cfg["UPLOAD_MAX_IMAGE_PIXELS"],
                    ),
                )
            )
        except uploads.UploadRefused as exc:
            raise TipError(exc.message, "photos", exc.status) from None
    total = sum(p.file.size for p in checked)
    if total > cfg["TIP_MAX_TOTAL_BYTES"]:
        raise TipError(
            _(
                "照片合计 %(total)s，超过了每次举报 %(limit)s 的上限，请减少或压缩照片",
                total=uploads.megabytes(total),
                limit=uploads.megabytes(cfg["TIP_MAX_TOTAL_BYTES"]),
            ),
            "photos",
            uploads.TOO_LARGE,
        )
    return checked


def _reencode(photo: _Photo) -> bytes:
    image_format = uploads.KINDS[photo.file.extension].image_format
    assert image_format is not None  # PHOTO_TYPES are all image kinds, and check() verified it as one
    try:
        return uploads.reencode(
            photo.upload.stream,
            photo.file.filename,
            image_format,
            max_side=PHOTO_MAX_SIDE,
            max_pixels=current_app.config["UPLOAD_MAX_IMAGE_PIXELS"],
        )
    except uploads.UploadRefused as exc:
        raise TipError(exc.message, "photos", exc.status) from None


def _check(campaign: Campaign, data: TipInput) -> tuple[int, list[_Photo]]:
    cfg = current_app.config
    description, place = (data.description or "").strip(), (data.place or "").strip()
    if not description:
        raise TipError(_l("请描述反映的问题"), "description")
    if len(description) > cfg["TIP_MAX_TEXT"]:
        raise TipError(_l("问题描述不能超过 %(max)s 字", max=cfg["TIP_MAX_TEXT"]), "description")
    if not place:
        raise TipError(_l("请填写问题所在地点"), "place")
    for name, limit in TEXT_LIMITS.items():
        if len((getattr(data, name) or "").strip()) > limit:
            raise TipError(_l("内容不能超过 %(max)s 字", max=limit), name)
    unit_id = db.session.scalar(
        select(CampaignUnit.unit_id).filter_by(campaign_id=campaign.id, public_slug=data.unit_slug or "")
    )
    if unit_id is None:
        raise TipError(_l("请选择被反映的单位"), "unit")
    return unit_id, _check_photos([p for p in data.photos if p and p.filename])


def submit(campaign: Campaign, data: TipInput) -> tuple[Tip, str]:
    """Store the tip and its photos; returns the tip and its receipt code (shown once, kept only hashed)."""
    unit_id, photos = _check(campaign, data)
    clean = [(p.file.content_type, _reencode(p)) for p in photos]
    code = new_receipt_code()
    contact = (data.contact or "").strip()
    tip = Tip(
        campaign_id=campaign.id,
        unit_id=unit_id,
        project=(data.project or "").strip(),
        description=data.description.strip(),
        place=data.place.strip(),
        contact=contact or None,
        receipt_hash=_receipt_hash(code),
        status="received",
        created_at=clock.now(),
    )
    for position, (content_type, body) in enumerate(clean):
        blob = evidence.write_blob(FileStorage(io.BytesIO(body)))
        tip.photos.append(TipPhoto(position=position, sha256=blob.sha256, content_type=content_type, size=blob.size))
    db.session.add(tip)
    db.session.flush()
    # The reporter's contact stays out of the audit trail; it is only on the tip itself.
    audit.record(
        None,
        "tip.submit",
        "tip",
        tip.id,
        after={"campaign_id": campaign.id, "photos": len(tip.photos)},
        unit_id=unit_id,
    )
    db.session.commit()
    return tip, code


def lookup(code: str) -> Tip | None:
    if len(normalise_code(code)) != RECEIPT_LENGTH:
        return None
    return db.session.scalar(select(Tip).filter_by(receipt_hash=_receipt_hash(code)))


# ---- the campaign office ---------------------------------------------------------


def office_list(status: str | None = None, campaign_id: int | None = None, limit: int = 200) -> list[Tip]:
    query = select(Tip).order_by(Tip.created_at.desc()).limit(limit)
    if status:
        query = query.where(Tip.status == status)
    if campaign_id:
        query = query.where(Tip.campaign_id == campaign_id)
    return list(db.session.scalars(query))


def counts() -> dict[str, int]:
    return dict(db.session.execute(select(Tip.status, func.count()).group_by(Tip.status)).tuples().all())


def get(tip_id: int) -> Tip | None:
    return db.session.get(Tip, tip_id)


def photo(tip_id: int, photo_id: int) -> TipPhoto | None:
    row = db.session.get(TipPhoto, photo_id)
    return row if row is not None and row.tip_id == tip_id else None


def photo_path(row: TipPhoto) -> Path:
    return evidence.blob_path(row.sha256)


ALREADY_TRIAGED = N_("该举报已处理，不能重复处理")


def _triageable(user: User, tip_id: int) -> Tip:
    if user.role not in TRIAGE_TIPS:
        raise NotFound(_l("举报不存在"))
    tip = db.session.get(Tip, tip_id)
    if tip is None:
        raise NotFound(_l("举报不存在"))
    if tip.status != "received":
        raise Conflict(ALREADY_TRIAGED)
    return tip


def _claim(tip: Tip, status: str) -> None:
    """Take the tip for this triage: of two office members deciding at once, the second is refused."""
    claimed = cast(
        CursorResult[Any],
        db.session.execute(  # an UPDATE's result: a CursorResult
            update(Tip)
            .where(Tip.id == tip.id, Tip.status == TipStatus.RECEIVED)
            .values(status=status)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict(ALREADY_TRIAGED)


def running_instance(tip: Tip) -> ProcessInstance | None:
    return db.session.scalar(
        select(ProcessInstance).filter_by(campaign_id=tip.campaign_id, unit_id=tip.unit_id, status="running")
    )


def accept(user: User, tip_id: int, form: RectifyForm) -> Tip:
    """The tip becomes a ledger item of its unit and joins the unit's running rectification."""
    tip = _triageable(user, tip_id)
    if not forms.validate(form):
        raise FormInvalid(form)
    instance = running_instance(tip)
    if instance is None:
        raise Conflict(_l("该单位没有进行中的整治流程，无法纳入整改台账；可不予受理并说明理由"))
    data = forms.to_data(form)
    reply = (data.pop("reply", None) or "").strip()
    _claim(tip, "accepted")
    item = findings.start_item(instance, {**data, "source": "tip_off"}, "tip", user.id)
    tip.status, tip.ledger_item_id = "accepted", item.id
    tip.reply = reply or None
    tip.triaged_at, tip.triaged_by_id = clock.now(), user.id
    audit.record(
        user.id,
        "tip.accept",
        "tip",
        tip.id,
        before={"status": "received"},
        after={"status": "accepted", "ledger_item_id": item.id, "reply": tip.reply},
        unit_id=tip.unit_id,
    )
    db.session.commit()
    return tip


def decline(user: User, tip_id: int, reason: str) -> Tip:
    reason = (reason or "").strip()
    tip = _triageable(user, tip_id)
    if not reason:
        raise TipError(_l("不予受理须填写理由（将显示在举报查询页面）"), "reason")
    if len(reason) > 1000:
        raise TipError(_l("理由不能超过 1000 字"), "reason")
    _claim(tip, "declined")
    tip.status, tip.reply = "declined", reason
    tip.triaged_at, tip.triaged_by_id = clock.now(), user.id
    audit.record(
        user.id,
        "tip.decline",
        "tip",
        tip.id,
        before={"status": "received"},
        after={"status": "declined", "reason": reason},
        unit_id=tip.unit_id,
    )
    db.session.commit()
    return tip


def unit_slug(tip: Tip) -> str | None:
    """The unit's public page, when its campaign is published."""
    if not tip.campaign.published:
        return None
    return db.session.scalar(
        select(CampaignUnit.public_slug).filter_by(campaign_id=tip.campaign_id, unit_id=tip.unit_id)
    )

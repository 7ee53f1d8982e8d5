"""监督工作箱: a resident's tip, the receipt code, the office's triage, and the limits that protect the box."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from PIL import Image

from app.extensions import db
from app.models import AuditEvent, LedgerItem, ProcessInstance, Tip, TipPhoto
from app.services.campaigns import launch
from tests.public_support import JPEG, PNG, lookup, post_tip, publish, receipt_of, tip_fields
from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload

ACCEPT = {
    "title": "群众举报：广场占用耕地",
    "measures": "停建并恢复耕地",
    "responsible_leader": "李四",
    "responsible_department": "自然资源办",
    "deadline": "2027-03-20",
    "reply": "已交塘渡口镇整改，限期恢复耕地。",
}


# Requests run in their own app context (CSRF tokens are cached per context), so the test reads
# and drives the database inside short contexts of its own.
@pytest.fixture
def world(app, make_unit, make_user):
    unit = make_unit("T01", "塘渡口镇")
    other = make_unit("T02", "白仓镇")
    with app.app_context():
        cid = make_campaign([unit, other])
        launch.launch_all(cid, None)
        slug, unit_slugs = publish(cid)
        instance = db.session.query(ProcessInstance).filter_by(unit_id=unit).one()
    return {
        "app": app,
        "campaign": cid,
        "slug": slug,
        "unit": unit,
        "unit_slug": unit_slugs[unit],
        "other_slug": unit_slugs[other],
        "instance": instance.id,
        "staff": make_user("unit_staff", unit, username="staff1"),
        "supervisor": make_user("supervisor", username="sup1"),
        "assessor": make_user("assessor", username="ass1"),
    }


def one(world, element_id):
    found = ready_tasks(world["instance"], element_id)
    assert len(found) == 1, [t.element_id for t in ready_tasks(world["instance"])]
    return found[0]


def to_rectification(world, *titles):
    app = world["app"]
    submit(app, world["staff"], one(world, "deploy").id, DEPLOY, {"plan": upload()})
    submit(app, world["staff"], one(world, "self_check").id, {"summary": "自查完毕", **ledger_rows(*titles)})
    submit(app, world["supervisor"], one(world, "review_self_check").id, {"decision": "accept"})


def rectify_and_close(world, task):
    submit(
        world["app"],
        world["staff"],
        task.id,
        {"measures_taken": "已整改", "completed_on": "2027-02-01"},
        {"evidence": [upload("照片.jpg", JPEG)]},
    )
    verify = [
        t
        for t in ready_tasks(world["instance"])
        if t.ledger_item_id == task.ledger_item_id and t.form_key == "verify_item"
    ]
    submit(world["app"], world["supervisor"], verify[0].id, {"decision": "close", "check_type": "spot_check"})


def tip_id_of(world, code: str) -> int:
    from app.services.disclosure import tips

    with world["app"].app_context():
        return tips.lookup(code).id


def test_tip_accepted_joins_the_running_rectification_and_blocks_assessment(world, client, login_as):
    app = world["app"]
    with app.app_context():
        to_rectification(world, "广场超标")
    resp = post_tip(
        client, world["slug"], tip_fields(world["unit_slug"], contact="13800138000"), photos=[("现场.jpg", JPEG)]
    )
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    code = receipt_of(resp)
    assert len(code.replace("-", "")) >= 12
    tip_id = tip_id_of(world, code)

    sup = login_as("supervisor", username="office")
    assert "广场占用耕地" in sup.get("/supervise/tips").get_data(as_text=True)
    detail = sup.get(f"/supervise/tips/{tip_id}").get_data(as_text=True)
    assert "13800138000" in detail  # the office sees the contact; the public never does
    resp = sup.post_form(f"/supervise/tips/{tip_id}/accept", ACCEPT, form_url=f"/supervise/tips/{tip_id}")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]

    with app.app_context():
        tip = db.session.get(Tip, tip_id)
        item = db.session.get(LedgerItem, tip.ledger_item_id)
        assert tip.status == "accepted" and tip.triaged_by_id == sup.user
        assert (item.instance_id, item.source, item.origin, item.status) == (
            world["instance"],
            "tip_off",
            "tip",
            "rectifying",
        )
        # Its own rectify task (with a due time for the ladder) in the unit's running instance.
        added = one(world, "rectify_added_item")
        assert added.ledger_item_id == item.id and added.due_at is not None and added.role == "unit_staff"
        event = db.session.query(AuditEvent).filter_by(action="tip.accept").one()
        assert event.actor_id == sup.user and event.after["ledger_item_id"] == item.id

        rectify_and_close(world, one(world, "rectify_item"))
        # The self-check item is closed but the tip's item is open: no assessment yet.
        assert not ready_tasks(world["instance"], "assessment")
        assert db.session.get(ProcessInstance, world["instance"]).phase == "rectification"
        rectify_and_close(world, added)
        assert one(world, "assessment")

    status = lookup(client, code.lower().replace("-", " ")).get_data(as_text=True)
    assert "已受理，纳入整改" in status and "已交塘渡口镇整改，限期恢复耕地。" in status
    assert "已销号" in status and "13800138000" not in status and "office" not in status


def test_decline_shows_the_reason_on_the_status_page(world, client, login_as):
    code = receipt_of(post_tip(client, world["slug"], tip_fields(world["other_slug"])))
    tip_id = tip_id_of(world, code)
    assert "待处理" in lookup(client, code).get_data(as_text=True)
    sup = login_as("supervisor", username="office")
    url = f"/supervise/tips/{tip_id}"
    empty = sup.post_form(f"{url}/decline", {"reason": "  "}, form_url=url)
    assert empty.status_code == 400 and "不予受理须填写理由" in empty.get_data(as_text=True)
    hidden = sup.post_form(f"{url}/decline", {"reason": "经核实\x01不予受理"}, form_url=url)
    assert hidden.status_code == 400 and "含有无法保存的控制字符" in hidden.get_data(as_text=True)
    resp = sup.post_form(f"{url}/decline", {"reason": "经核实，该广场不属于本次整治范围。"}, form_url=url)
    assert resp.status_code == 302
    page = lookup(client, code).get_data(as_text=True)
    assert "不予受理" in page and "经核实，该广场不属于本次整治范围。" in page
    # A triaged tip cannot be triaged again.
    again = sup.post_form(f"{url}/accept", ACCEPT, form_url="/supervise/tips")
    assert again.status_code == 409 and "已处理" in again.get_data(as_text=True)
    with world["app"].app_context():
        assert db.session.query(LedgerItem).count() == 0
        event = db.session.query(AuditEvent).filter_by(action="tip.decline").one()
        assert event.actor_id == sup.user and event.after["reason"].startswith("经核实")


def test_accept_needs_a_running_instance(world, client, login_as, make_unit):
    from app.models import CampaignUnit

    late = make_unit("T09", "新纳入单位")
    with world["app"].app_context():
        # A unit enrolled after launch has no instance yet.
        db.session.add(CampaignUnit(campaign_id=world["campaign"], unit_id=late))
        db.session.commit()
        late_slug = db.session.query(CampaignUnit.public_slug).filter_by(unit_id=late).scalar()
    code = receipt_of(post_tip(client, world["slug"], tip_fields(late_slug)))
    sup = login_as("supervisor", username="office")
    resp = sup.post_form(f"/supervise/tips/{tip_id_of(world, code)}/accept", ACCEPT, form_url="/supervise/tips")
    assert resp.status_code == 409 and "没有进行中的整治流程" in resp.get_data(as_text=True)
    with world["app"].app_context():
        assert db.session.query(Tip).one().status == "received"


def test_wrong_receipt_code_finds_nothing(world, client):
    receipt_of(post_tip(client, world["slug"], tip_fields(world["unit_slug"])))
    for wrong in ("ABCD-EFGH-JKMN-PQRS", "short", "' OR 1=1 --"):
        resp = lookup(client, wrong)
        assert resp.status_code == 404 and "未找到该回执码对应的举报" in resp.get_data(as_text=True)
    with world["app"].app_context():
        # Only the code's hash is stored.
        assert len(db.session.query(Tip).one().receipt_hash) == 64


def tip_count(world) -> int:
    with world["app"].app_context():
        return db.session.query(Tip).count()


def test_rate_limit_per_client_and_in_all(world, client, monkeypatch):
    app = world["app"]
    monkeypatch.setitem(app.config, "TIP_RATE_PER_CLIENT", 2)
    monkeypatch.setitem(app.config, "TIP_RATE_TOTAL", 3)
    start = datetime(2026, 11, 22, 8, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(2):
            assert post_tip(client, world["slug"], tip_fields(world["unit_slug"])).status_code == 200
        blocked = post_tip(client, world["slug"], tip_fields(world["unit_slug"]))
        assert blocked.status_code == 429 and "提交过于频繁" in blocked.get_data(as_text=True)
        # Another address still gets through, until the window's total is reached.
        other = post_tip(client, world["slug"], tip_fields(world["unit_slug"]), remote_addr="198.51.100.9")
        assert other.status_code == 200
        third = post_tip(client, world["slug"], tip_fields(world["unit_slug"]), remote_addr="198.51.100.10")
        assert third.status_code == 429
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert post_tip(client, world["slug"], tip_fields(world["unit_slug"])).status_code == 200
    assert tip_count(world) == 4


def test_refused_tips_do_not_use_up_the_limit(world, client, monkeypatch):
    monkeypatch.setitem(world["app"].config, "TIP_RATE_PER_CLIENT", 2)
    with time_machine.travel(datetime(2026, 11, 22, 8, 5, tzinfo=UTC), tick=False):
        for _ in range(5):  # five typos: each refused, none counted
            assert post_tip(client, world["slug"], tip_fields(world["unit_slug"], place="")).status_code == 400
        for _ in range(2):
            assert post_tip(client, world["slug"], tip_fields(world["unit_slug"])).status_code == 200
        assert post_tip(client, world["slug"], tip_fields(world["unit_slug"])).status_code == 429
    assert tip_count(world) == 2


def test_wrong_codes_slow_down_with_growing_delays_but_a_correct_code_always_opens(world, client, monkeypatch):
    monkeypatch.setitem(world["app"].config, "TIP_LOOKUP_ADDRESS_FREE_FAILURES", 3)
    code = receipt_of(post_tip(client, world["slug"], tip_fields(world["unit_slug"])))
    wrong = iter(f"ABCD-EFGH-JKMN-PQ{a}{b}" for a in "RSTUV" for b in "WXYZ")
    start = datetime(2026, 11, 22, 8, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert lookup(client, next(wrong)).status_code == 404
        held = lookup(client, next(wrong))
        assert held.status_code == 429 and "30 秒后再试" in held.get_data(as_text=True)
        # A neighbour behind the same address, with the right code, is never refused.
        assert lookup(client, code).status_code == 200
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert lookup(client, next(wrong)).status_code == 404  # allowed again, and the delay doubles
        assert "60 秒后再试" in lookup(client, next(wrong)).get_data(as_text=True)
    with world["app"].app_context():
        from app.models import LoginThrottle

        kinds = {row.kind for row in db.session.query(LoginThrottle)}
    assert kinds == {"receipt_address", "receipt_code"}  # the office sees them beside the login throttles


def test_one_wrong_code_tried_from_many_addresses_is_slowed(world, client, monkeypatch):
    monkeypatch.setitem(world["app"].config, "TIP_LOOKUP_CODE_FREE_FAILURES", 2)
    with time_machine.travel(datetime(2026, 11, 22, 8, 5, tzinfo=UTC), tick=False):
        answers = [lookup(client, "ABCD-EFGH-JKMN-PQRS", remote_addr=f"198.51.100.{n}").status_code for n in range(3)]
    assert answers == [404, 404, 429]


MB = 1024 * 1024
LIMIT_CASES = {
    "too_many": (413, "最多上传 2 张照片"),
    "not_an_image": (415, "「photo.jpg」的扩展名是 .jpg，但内容不是JPG 图片"),
    "too_big": (413, "「big.jpg」大小为 1 MB，超过了单个文件 1 MB 的上限"),
    "long_text": (400, "问题描述不能超过"),
    "no_place": (400, "请填写问题所在地点"),
    "huge_request": (413, "提交的内容过大：照片最多 2 张，每张不超过 1 MB，合计不超过 1.5 MB"),
    "control_chars": (400, "含有无法保存的控制字符"),
}


@pytest.mark.parametrize("case", sorted(LIMIT_CASES))
def test_size_and_content_limits(world, client, monkeypatch, case):
    app = world["app"]
    monkeypatch.setitem(app.config, "TIP_MAX_PHOTOS", 2)
    monkeypatch.setitem(app.config, "TIP_MAX_PHOTO_BYTES", MB)
    monkeypatch.setitem(app.config, "TIP_MAX_TOTAL_BYTES", MB * 3 // 2)
    fields, photos = tip_fields(world["unit_slug"]), [("a.jpg", JPEG)]
    if case == "too_many":
        photos = [("a.jpg", JPEG), ("b.png", PNG), ("c.jpg", JPEG)]
    elif case == "not_an_image":
        photos = [("photo.jpg", b"<html><script>alert(1)</script></html>")]
    elif case == "too_big":
        photos = [("big.jpg", JPEG + b"\x00" * MB)]
    elif case == "long_text":
        fields["description"] = "问" * (app.config["TIP_MAX_TEXT"] + 1)
    elif case == "no_place":
        fields["place"] = ""
    elif case == "control_chars":
        fields["project"] = "文化\x0b广场"  # pasted from another program: it would break the exports
    elif case == "huge_request":
        photos = [("a.jpg", JPEG + b"\x00" * MB), ("b.jpg", JPEG + b"\x00" * MB), ("c.jpg", JPEG + b"\x00" * MB)]
    resp = post_tip(client, world["slug"], fields, photos)
    status, message = LIMIT_CASES[case]
    page = resp.get_data(as_text=True)
    assert resp.status_code == status and message in page
    if case != "long_text":
        assert "广场占用耕地，规模超标。" in page  # what was typed is kept
    assert tip_count(world) == 0


def test_photos_are_stored_by_hash_and_shown_to_the_office_only(world, client, login_as):
    code = receipt_of(
        post_tip(client, world["slug"], tip_fields(world["unit_slug"]), photos=[("IMG_0001.jpg", JPEG), ("b.png", PNG)])
    )
    tip_id = tip_id_of(world, code)
    with world["app"].app_context():
        photos = db.session.query(TipPhoto).filter_by(tip_id=tip_id).order_by(TipPhoto.position).all()
        assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
        photo_id, sha = photos[0].id, photos[0].sha256
    stored = Path(world["app"].config["UPLOAD_DIR"]) / sha[:2] / sha
    # What is kept is a re-encoded copy (no metadata), still the same picture.
    with Image.open(stored) as kept:
        assert kept.format == "JPEG" and kept.size == (8, 8)
    url = f"/supervise/tips/{tip_id}/photos/{photo_id}"
    sup = login_as("supervisor", username="office")
    resp = sup.get(url)
    body = resp.get_data()
    resp.close()  # send_file streams from the stored blob
    assert (
        resp.status_code == 200 and body == stored.read_bytes() and resp.headers["X-Content-Type-Options"] == "nosniff"
    )
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert login_as("unit_staff", world["unit"], username="staffx").get(url).status_code == 403
    assert login_as("assessor", username="assx").get(url).status_code == 403
    assert sup.get(f"/supervise/tips/{tip_id}/photos/{photo_id + 999}").status_code == 404


def test_unpublished_campaign_takes_no_tips(world, client):
    from app.models import Campaign

    with world["app"].app_context():
        db.session.get(Campaign, world["campaign"]).published = False
        db.session.commit()
    assert client.get(f"/public/c/{world['slug']}/tips/new").status_code == 404
    assert client.get(f"/public/c/{world['slug']}").status_code == 404


def test_tip_form_needs_csrf(world, client):
    resp = client.post(f"/public/c/{world['slug']}/tips/new", data=tip_fields(world["unit_slug"]))
    assert resp.status_code == 400 and "安全令牌" in resp.get_data(as_text=True)
    assert tip_count(world) == 0


def test_triage_is_for_the_office_only(world, client, login_as):
    tip_id = tip_id_of(world, receipt_of(post_tip(client, world["slug"], tip_fields(world["unit_slug"]))))
    for role, unit in (("unit_staff", world["unit"]), ("assessor", None), ("designer", None)):
        actor = login_as(role, unit, username=f"u_{role}")
        assert actor.get("/supervise/tips").status_code == 403
        assert actor.get(f"/supervise/tips/{tip_id}").status_code == 403
    assert client.get("/supervise/tips").status_code == 302


def test_behind_a_trusted_proxy_the_limit_counts_the_forwarded_address(tmp_path):
    from flask import request

    from app import create_app
    from config import TestConfig

    cfg = type(
        "ProxiedConfig",
        (TestConfig,),
        {
            "TRUSTED_PROXIES": 1,
            "UPLOAD_DIR": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}",
        },
    )
    proxied = create_app(cfg)
    proxied.add_url_rule("/_address", "address", lambda: request.remote_addr or "")
    resp = proxied.test_client().get(
        "/_address", headers={"X-Forwarded-For": "198.51.100.23"}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert resp.get_data(as_text=True) == "198.51.100.23"


def test_a_large_campaign_names_only_the_unit_the_resident_came_from(world, client, monkeypatch):
    monkeypatch.setitem(world["app"].config, "TIP_UNIT_SELECT_MAX", 1)
    url = f"/public/c/{world['slug']}/tips/new"
    page = client.get(url).get_data(as_text=True)
    assert 'id="find-unit"' in page and "白仓镇" not in page and "塘渡口镇" not in page
    page = client.get(f"{url}?unit={world['unit_slug']}").get_data(as_text=True)
    assert "塘渡口镇" in page and "白仓镇" not in page
    assert post_tip(client, world["slug"], tip_fields(world["other_slug"])).status_code == 200
    found = client.get(f"/public/c/{world['slug']}?q=白仓").get_data(as_text=True)
    assert f"/public/c/{world['slug']}/u/{world['other_slug']}" in found
    assert f"/u/{world['unit_slug']}" not in found and "名称含“白仓”的单位：1 个" in found

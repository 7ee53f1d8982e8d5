"""开门整治: the public pages of the seeded demo campaign show commitments, progress, closed items and
notices, and none of what stays inside (people, comments, unpublished files, internal ids, contacts)."""

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import (
    Campaign,
    CampaignUnit,
    Evidence,
    LedgerItem,
    ProcessInstance,
    PublicNotice,
    Submission,
    Task,
    Tip,
    User,
)
from app.services.sweep import timers
from tests.public_support import lookup, post_tip, receipt_of, tip_fields

PUBLIC_NAME = "公开：广场拆除前后对比.pdf"
CONTACT = "13912345678"
TIP_TEXT = "反映：村口新修的观景台无人使用且占用林地"
# Links into the inside of the application, or through its counting ids.
INTERNAL_LINK = re.compile(
    r'(?:href|src|action)="([^"]*(?:/supervise|/admin|/evidence/|/my/|/assess|/letters)'
    r'[^"]*|[^"]*/\d+(?:[/?#][^"]*)?)"'
)
LINK = re.compile(r'href="(/public/[^"]+)"')
COMMENT_KEYS = ("comments", "remarks", "findings")


def _seed(app):
    """The demo, then the weeks in which its overdue steps climb the ladder to public notices
    (one rung a sweep: reminders now, letters 3 working days later, notices 7 after those)."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    start = clock.now()
    for days in (0, 5, 20):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            timers.tick()


def _rectification_file() -> Evidence:
    """A file submitted for a ledger item of a unit still rectifying (a resident's tip about it
    joins its ledger), renamed so the private copies' names can be checked apart."""
    row = db.session.scalars(
        select(Evidence)
        .join(Task, Task.id == Evidence.task_id)
        .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .where(Task.ledger_item_id.is_not(None), ProcessInstance.status == "running")
        .order_by(Evidence.id)
    ).first()
    row.filename = PUBLIC_NAME
    db.session.commit()
    return row


def _internal_strings() -> set[str]:
    """What must never reach a resident, gathered from the seeded data itself."""
    leaks: set[str] = set()
    for user in db.session.scalars(select(User)):
        leaks.update(v for v in (user.username, user.display_name, user.email) if v)
    for (comment,) in db.session.execute(select(Task.returned_comment).where(Task.returned_comment.is_not(None))):
        leaks.add(comment)
    for (data,) in db.session.execute(select(Submission.data)):
        leaks.update(str(data[k]) for k in COMMENT_KEYS if isinstance(data.get(k), str) and len(data[k]) >= 6)
    leaks.update(row.filename for row in db.session.scalars(select(Evidence).filter_by(is_public=False)))
    leaks.update(item.responsible_leader for item in db.session.scalars(select(LedgerItem)) if item.responsible_leader)
    for tip in db.session.scalars(select(Tip)):
        leaks.update(v for v in (tip.contact, tip.description) if v)
    leaks.discard(PUBLIC_NAME)
    return leaks


def _crawl(client, start: str) -> dict[str, str]:
    """Every public page reachable from `start` by its links (pagination, unit pages, notices)."""
    pages, queue = {}, [start]
    while queue:
        url = queue.pop()
        if url in pages or url.startswith("/public/files/"):
            continue
        resp = client.get(url)
        assert resp.status_code == 200, url
        pages[url] = resp.get_data(as_text=True)
        queue.extend(u.replace("&amp;", "&") for u in LINK.findall(pages[url]))
    return pages


# Requests run outside the test's own app contexts: Flask-WTF caches a CSRF token per app context.
def test_disclosure_pages_show_progress_and_leak_nothing_internal(app, client, login_as):
    with app.app_context():
        _seed(app)
        campaign = db.session.scalars(select(Campaign)).one()
        assert campaign.published  # the demo opens its campaign to residents
        row = _rectification_file()
        file_id, instance_id, unit_id = row.id, row.instance_id, row.unit_id
        unit_slug = db.session.scalar(
            select(CampaignUnit.public_slug).filter_by(campaign_id=campaign.id, unit_id=unit_id)
        )
        closed_title = db.session.scalars(select(LedgerItem.title).filter_by(status="closed")).first()
        summaries = [n.summary for n in db.session.scalars(select(PublicNotice))]
    sup = login_as("supervisor", username="sup_public")
    # The supervisor publishes the file with the instance page's button.
    resp = sup.post_form(f"/evidence/{file_id}/public", {"public": "1"}, form_url=f"/supervise/instances/{instance_id}")
    assert resp.status_code == 302
    code = receipt_of(
        post_tip(client, campaign.public_slug, tip_fields(unit_slug, description=TIP_TEXT, contact=CONTACT))
    )
    with app.app_context():
        tip_id = db.session.scalar(select(Tip.id).filter_by(contact=CONTACT))
    resp = sup.post_form(
        f"/supervise/tips/{tip_id}/accept",
        {
            "title": "群众反映观景台闲置",
            "measures": "调查核实后拆除或改作他用",
            "responsible_leader": "赵副镇长",
            "responsible_department": "规划办",
            "deadline": "2027-05-31",
            "reply": "已交由该单位整改。",
        },
        form_url=f"/supervise/tips/{tip_id}",
    )
    assert resp.status_code == 302
    with app.app_context():
        token = db.session.get(Evidence, file_id).public_token
        leaks = _internal_strings()
    assert CONTACT in leaks and "sup_public" in leaks and "赵副镇长" in leaks
    assert "问题清单不够具体，请补充整改措施和责任人后重新报送。" in leaks
    slug = campaign.public_slug

    pages = _crawl(client, "/public/")
    pages["status"] = lookup(client, code).get_data(as_text=True)
    pages["notices"] = client.get("/public/notices").get_data(as_text=True)
    campaign_page = pages[f"/public/c/{slug}"]
    for shown in (campaign.doc_number, campaign.issuer, "总体进展", "最近销号", closed_title, "监督工作箱"):
        assert shown in campaign_page, shown
    unit_page = pages[f"/public/c/{slug}/u/{unit_slug}"]
    assert "群众反映观景台闲置" in unit_page and "调查核实后拆除或改作他用" in unit_page and "信访举报" in unit_page
    assert PUBLIC_NAME in unit_page and f"/public/files/{token}" in unit_page
    assert summaries and any(summary in campaign_page for summary in summaries)
    # Every unit's page, through the pager (in both languages: the language links are crawled too).
    assert len({u.split("?")[0] for u in pages if "/u/" in u}) == 33
    for url, html in pages.items():
        found = sorted(s for s in leaks if s in html)
        assert not found, f"{url} shows internal data: {found}"
        assert not INTERNAL_LINK.findall(html), f"{url} links inside: {INTERNAL_LINK.findall(html)}"

    download = client.get(f"/public/files/{token}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    download.close()


def test_only_published_campaigns_are_public_and_only_admins_publish(app, client, login_as, make_unit):
    from app.services.campaigns import launch
    from tests.support import make_campaign

    unit = make_unit("T01", "塘渡口镇")
    with app.app_context():
        cid = make_campaign([unit])
        launch.launch_all(cid, None)
        slug = db.session.get(Campaign, cid).public_slug
    assert client.get(f"/public/c/{slug}").status_code == 404
    assert slug not in client.get("/public/").get_data(as_text=True)
    detail = f"/admin/campaigns/{cid}"
    sup = login_as("supervisor", username="sup")
    assert sup.post_form(f"{detail}/publish", {"published": "1"}, form_url=detail).status_code == 403
    admin = login_as("admin", username="adm")
    assert admin.post_form(f"{detail}/publish", {"published": "1"}, form_url=detail).status_code == 302
    page = client.get(f"/public/c/{slug}")
    assert page.status_code == 200 and "测政发〔2026〕1号" in page.get_data(as_text=True)
    assert f"/public/c/{slug}" in admin.get(detail).get_data(as_text=True)
    assert admin.post_form(f"{detail}/publish", {"published": "0"}, form_url=detail).status_code == 302
    assert client.get(f"/public/c/{slug}").status_code == 404
    with app.app_context():
        from app.models import AuditEvent

        actions = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "campaign"))]
        assert "campaign.publish" in actions and "campaign.unpublish" in actions


def test_only_supervisors_publish_item_files_and_unpublished_files_are_gone(app, client, login_as, make_unit):
    from app.services.campaigns import launch
    from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload

    unit = make_unit("T01", "塘渡口镇")
    staff = login_as("unit_staff", unit, username="staff1")
    sup = login_as("supervisor", username="sup")
    with app.app_context():
        cid = make_campaign([unit])
        launch.launch_all(cid, None)
        db.session.get(Campaign, cid).published = True
        db.session.commit()
        instance = db.session.scalar(select(Task.instance_id).filter_by(unit_id=unit))
        submit(app, staff.user, ready_tasks(instance, "deploy")[0].id, DEPLOY, {"plan": upload("方案.pdf")})
        submit(app, staff.user, ready_tasks(instance, "self_check")[0].id, {"summary": "自查", **ledger_rows("甲")})
        submit(app, sup.user, ready_tasks(instance, "review_self_check")[0].id, {"decision": "accept"})
        submit(
            app,
            staff.user,
            ready_tasks(instance, "rectify_item")[0].id,
            {"measures_taken": "已整改", "completed_on": "2027-02-01"},
            {"evidence": [upload("现场照片.pdf")]},
        )
        plan = db.session.scalar(select(Evidence.id).filter_by(filename="方案.pdf"))
        photo = db.session.scalar(select(Evidence.id).filter_by(filename="现场照片.pdf"))
    page = f"/supervise/instances/{instance}"
    assert staff.post_form(f"/evidence/{photo}/public", {"public": "1"}, form_url="/my/tasks").status_code == 403
    refused = sup.post_form(f"/evidence/{plan}/public", {"public": "1"}, form_url=page)
    assert refused.status_code == 400 and "只有整改事项的佐证材料可以公开" in refused.get_data(as_text=True)
    assert sup.post_form(f"/evidence/{photo}/public", {"public": "1"}, form_url=page).status_code == 302
    assert "已公开" in sup.get(page).get_data(as_text=True)
    with app.app_context():
        token = db.session.get(Evidence, photo).public_token
    resp = client.get(f"/public/files/{token}")
    resp.close()
    assert resp.status_code == 200
    assert sup.post_form(f"/evidence/{photo}/public", {"public": "0"}, form_url=page).status_code == 302
    assert client.get(f"/public/files/{token}").status_code == 404
    assert client.get("/public/files/not-a-token").status_code == 404

"""督办函: issued by the ladder or by hand, numbered without gap or duplicate, acknowledged, printed, downloaded."""

import io
import threading
from datetime import UTC, date, datetime
from urllib.parse import unquote

import pytest
import time_machine
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Escalation, LetterCounter, PublicNotice, SupervisionLetter, Task, User
from app.services.campaigns import launch
from app.services.escalation import letters, manual_letters
from app.services.sweep import timers
from tests.support import asset, make_campaign, ready_tasks

# The deploy phase ends 2026-12-10: due at 17:30 Beijing time (09:30 UTC).
DUE = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
REMINDED = datetime(2026, 12, 10, 9, 31, tzinfo=UTC)  # a minute past due: the reminder's sweep
OVERDUE = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)  # next morning: overdue, no letter yet
BEFORE_LETTER = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)  # due + 3 working days is 12-15 17:30
AFTER_LETTER = datetime(2026, 12, 16, 2, 0, tzinfo=UTC)
ISSUER = "测试县人民政府办公室"


@pytest.fixture
def world(app, make_unit, make_user):
    unit_a = make_unit("A01", "塘渡口镇")
    unit_b = make_unit("B01", "白仓镇")
    with app.app_context():
        cid = make_campaign([unit_a, unit_b])
        launch.launch_all(cid, None)
        deploy = {t.unit_id: t.id for t in db.session.query(Task).filter_by(element_id="deploy")}
    return {
        "app": app,
        "campaign": cid,
        "a": unit_a,
        "b": unit_b,
        "deploy": deploy,
        "supervisor": make_user("supervisor", username="sup"),
    }


def issue_by_tick(world) -> dict[int, int]:
    """The sweep reminds on the due date, then 3 working days later issues the letters: {unit_id: letter_id}."""
    with world["app"].app_context(), time_machine.travel(REMINDED, tick=False):
        timers.tick()
    with world["app"].app_context(), time_machine.travel(AFTER_LETTER, tick=False):
        timers.tick()
        return dict(db.session.query(SupervisionLetter.unit_id, SupervisionLetter.id))


def test_the_sweep_issues_one_numbered_letter_per_overdue_unit_after_three_working_days(world, ctx):
    with time_machine.travel(REMINDED, tick=False):
        timers.tick()
    with time_machine.travel(BEFORE_LETTER, tick=False):
        timers.tick()
    assert db.session.query(SupervisionLetter).count() == 0
    assert db.session.query(Escalation).filter_by(level="reminder").count() == 2
    with time_machine.travel(AFTER_LETTER, tick=False):
        timers.tick()
        timers.tick()  # a second sweep changes nothing
    rows = db.session.query(SupervisionLetter).order_by(SupervisionLetter.number).all()
    assert [(r.issuer, r.year, r.number) for r in rows] == [(ISSUER, 2026, 1), (ISSUER, 2026, 2)]
    by_unit = {r.unit_id: r for r in rows}
    letter = by_unit[world["a"]]
    assert letter.doc_number in ("督办函〔2026〕第1号", "督办函〔2026〕第2号")
    assert letter.body.startswith("塘渡口镇：") and "动员部署" in letter.body
    assert letter.original_due == DUE and letter.new_due > date(2026, 12, 16)
    assert db.session.query(PublicNotice).count() == 0


def test_a_sweeps_letters_take_one_block_of_numbers_and_a_failed_batch_gives_back_what_it_took(world, ctx):
    with time_machine.travel(REMINDED, tick=False):
        timers.tick()
    # Number 2 is already taken (a letter entered by hand before the counter existed): the
    # batch's block 1..2 cannot be written, so its letters go one by one: the first is number 1,
    # the second fails and its number is given back (no gap, no duplicate).
    db.session.add(
        SupervisionLetter(
            issuer=ISSUER,
            year=2026,
            number=2,
            campaign_id=world["campaign"],
            unit_id=world["b"],
            instance_id=db.session.scalars(select(Task.instance_id).where(Task.unit_id == world["b"])).first(),
            subject="手工督办函",
            items=[],
            new_due=date(2026, 12, 20),
            body="",
            issued_at=OVERDUE,
        )
    )
    db.session.commit()
    with time_machine.travel(AFTER_LETTER, tick=False):
        result = timers.tick()
    assert (result.escalations_done, result.escalations_failed) == (1, 1)
    issued = db.session.scalars(select(SupervisionLetter.number).where(SupervisionLetter.escalation_id.is_not(None)))
    assert list(issued) == [1]
    counter = db.session.scalars(select(LetterCounter.last_number).where(LetterCounter.issuer == ISSUER)).one()
    assert counter == 1
    failed = db.session.scalars(select(Escalation).filter_by(level="letter", status="pending")).one()
    assert failed.attempts == 1 and "IntegrityError" in failed.last_error


def test_numbers_run_per_issuer_and_year(ctx):
    assert [letters.take_number("甲县办", 2026) for _ in range(3)] == [1, 2, 3]
    assert letters.take_number("乙县办", 2026) == 1
    assert letters.take_number("甲县办", 2027) == 1
    db.session.rollback()  # a rolled-back number is given back: no gap
    assert letters.take_number("甲县办", 2026) == 1
    db.session.rollback()


def test_concurrent_letters_by_hand_are_numbered_one_to_n(app, make_unit, make_user):
    count = 6
    unit_ids = [make_unit(f"C{i:02d}", f"并发单位{i}") for i in range(count)]
    supervisor_id = make_user("supervisor", username="sup")
    with app.app_context():
        cid = make_campaign(unit_ids)
        launch.launch_all(cid, None)
        task_ids = [t.id for t in db.session.query(Task).filter_by(element_id="deploy")]
    assert len(task_ids) == count
    barrier = threading.Barrier(count)
    numbers, errors = [], []

    def issue(task_id):
        try:
            with app.app_context():
                user = db.session.get(User, supervisor_id)
                barrier.wait(timeout=10)
                numbers.append(manual_letters.issue_manual(user, task_id).number)
                db.session.remove()
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(repr(exc))

    with time_machine.travel(OVERDUE, tick=False):
        threads = [threading.Thread(target=issue, args=(task_id,)) for task_id in task_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(numbers) == list(range(1, count + 1))
    with app.app_context():
        stored = sorted(n for (n,) in db.session.query(SupervisionLetter.number))
        assert stored == list(range(1, count + 1))
        assert db.session.query(Escalation).filter_by(level="letter", manual=True).count() == count


def test_unit_acknowledges_its_letter_with_user_and_time(world, login_as):
    letter_id = issue_by_tick(world)[world["a"]]
    # Staff log in once the letter is out: a session signed at BASE is stale a month later.
    with time_machine.travel(AFTER_LETTER, tick=True):
        staff = login_as("unit_staff", world["a"], username="staffA")
        page = staff.get("/letters").get_data(as_text=True)
    assert "未签收" in page and f"/letters/{letter_id}" in page
    signed_at = datetime(2026, 12, 17, 1, 30, tzinfo=UTC)  # 09:30 Beijing
    with time_machine.travel(signed_at, tick=False):
        resp = staff.post_form(f"/letters/{letter_id}/acknowledge", {}, form_url=f"/letters/{letter_id}")
        assert resp.status_code == 302
        # (The signed session cookie must not travel back in time: read the page while still here.)
        page = staff.get(f"/letters/{letter_id}").get_data(as_text=True)
    assert "签收：测试unit_staff　2026年12月17日 09:30" in page
    assert 'id="acknowledge"' not in page
    with world["app"].app_context():
        letter = db.session.get(SupervisionLetter, letter_id)
        assert letter.acknowledged_by_id == staff.user and letter.acknowledged_at == signed_at
        events = db.session.query(AuditEvent).filter_by(action="letter.acknowledge", entity_id=str(letter_id)).all()
        assert len(events) == 1 and events[0].actor_id == staff.user
    # Acknowledging again changes nothing.
    with time_machine.travel(datetime(2026, 12, 18, tzinfo=UTC), tick=False):
        assert staff.post_form(f"/letters/{letter_id}/acknowledge", {}, form_url="/letters").status_code == 302
    with world["app"].app_context():
        assert db.session.get(SupervisionLetter, letter_id).acknowledged_at == signed_at
        assert db.session.query(AuditEvent).filter_by(action="letter.acknowledge").count() == 1


def test_only_the_units_staff_may_acknowledge(world, login_as):
    letter_id = issue_by_tick(world)[world["a"]]
    supervisor = login_as("supervisor", username="sup2")
    resp = supervisor.post_form(f"/letters/{letter_id}/acknowledge", {}, form_url=f"/letters/{letter_id}")
    assert resp.status_code == 403
    with world["app"].app_context():
        assert db.session.get(SupervisionLetter, letter_id).acknowledged_at is None


def test_letter_page_is_a_printable_a4_page(world, login_as):
    letter_id = issue_by_tick(world)[world["a"]]
    supervisor = login_as("supervisor", username="sup2")
    resp = supervisor.get(f"/letters/{letter_id}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    stylesheet = asset(world["app"], "letter.css")
    for text in (
        stylesheet,
        'id="print" data-print',
        ISSUER,
        "塘渡口镇：",
        "原办理期限：2026年12月10日 17:30",
        "新办理期限：",
        "签收：未签收",
        "动员部署",
    ):
        assert text in page, text
    css = supervisor.get(stylesheet)
    assert "@page{size:A4" in css.get_data(as_text=True).replace(" ", "")
    css.close()
    with world["app"].app_context():
        doc_number = db.session.get(SupervisionLetter, letter_id).doc_number
    assert doc_number in page and 'id="acknowledge"' not in page  # a supervisor does not sign


def test_docx_download_opens_with_python_docx(world, login_as):
    letter_id = issue_by_tick(world)[world["a"]]
    staff = login_as("unit_staff", world["a"], username="staffA")
    resp = staff.get(f"/letters/{letter_id}.docx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    with world["app"].app_context():
        doc_number = db.session.get(SupervisionLetter, letter_id).doc_number
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == f"{doc_number}.docx"
    document = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert doc_number in text and "塘渡口镇" in text and ISSUER in text
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋"


def test_other_units_staff_get_404_on_every_letter_url(world, login_as):
    letter_id = issue_by_tick(world)[world["a"]]
    own_id = issue_by_tick(world)[world["b"]]
    staff_b = login_as("unit_staff", world["b"], username="staffB")
    assert staff_b.get(f"/letters/{own_id}").status_code == 200  # the check is not "everything 404"
    assert staff_b.get(f"/letters/{letter_id}").status_code == 404
    assert staff_b.get(f"/letters/{letter_id}.docx").status_code == 404
    resp = staff_b.post_form(f"/letters/{letter_id}/acknowledge", {}, form_url=f"/letters/{own_id}")
    assert resp.status_code == 404
    listing = staff_b.get("/letters").get_data(as_text=True)
    assert f"/letters/{own_id}" in listing and f'/letters/{letter_id}"' not in listing
    with world["app"].app_context():
        assert db.session.get(SupervisionLetter, letter_id).acknowledged_at is None


def test_supervisor_list_filters_by_unit_and_acknowledgement(world, login_as):
    ids = issue_by_tick(world)
    supervisor = login_as("supervisor", username="sup2")
    page = supervisor.get("/letters").get_data(as_text=True)
    assert all(f'data-letter="{i}"' in page for i in ids.values())
    page = supervisor.get(f"/letters?unit={world['a']}").get_data(as_text=True)
    assert f'data-letter="{ids[world["a"]]}"' in page and f'data-letter="{ids[world["b"]]}"' not in page
    assert "data-letter" not in supervisor.get("/letters?acknowledged=yes").get_data(as_text=True)


def test_supervisor_list_picks_the_unit_by_typed_text(world, login_as):
    ids = issue_by_tick(world)
    supervisor = login_as("supervisor", username="sup2")
    page = supervisor.get("/letters?unit_q=白仓").get_data(as_text=True)
    assert f'data-letter="{ids[world["b"]]}"' in page and f'data-letter="{ids[world["a"]]}"' not in page
    assert 'value="白仓镇"' in page and "镇</option>" not in page  # no unit is listed as an option


def test_the_list_pages_and_counts_the_letters_still_waiting(world, ctx):
    ids = issue_by_tick(world)
    first, waiting = letters.search(per_page=1)
    second, _ = letters.search(page_number=2, per_page=1)
    assert (first.total, first.pages, waiting) == (2, 2, 2)
    assert {first.rows[0].id, second.rows[0].id} == set(ids.values())
    assert letters.search(acknowledged=True)[1] == 0 and letters.search(acknowledged=False)[1] == 2
    assert letters.search(unit_id=world["a"])[0].total == 1


def test_supervisor_issues_a_letter_by_hand_on_an_overdue_task(world, login_as):
    task_id = world["deploy"][world["a"]]
    supervisor = login_as("supervisor", username="sup2")
    with time_machine.travel(OVERDUE, tick=False):
        instance_url = _instance_url(world, task_id)
        page = supervisor.get(instance_url).get_data(as_text=True)
        assert "发督办函" in page
        resp = supervisor.post_form(
            f"/letters/manual/{task_id}", {"new_due": "2026-12-21", "next": instance_url}, form_url=instance_url
        )
        assert resp.status_code == 302 and "/letters/" in resp.headers["Location"]
        page = supervisor.get(instance_url).get_data(as_text=True)
        assert "督办函〔2026〕第1号" in page
    with world["app"].app_context():
        letter = db.session.query(SupervisionLetter).one()
        assert letter.task_id == task_id and letter.issued_by_id == supervisor.user
        assert letter.new_due == date(2026, 12, 21) and letter.number == 1
        escalation = db.session.get(Escalation, letter.escalation_id)
        assert escalation.manual and escalation.created_by_id == supervisor.user and escalation.status == "done"
    # The timer's own letter for that task is then never issued: only unit B gets one.
    issue_by_tick(world)
    with world["app"].app_context():
        assert sorted(u for (u,) in db.session.query(SupervisionLetter.unit_id)) == sorted([world["a"], world["b"]])


def test_a_second_letter_by_hand_is_refused(world, login_as):
    task_id = world["deploy"][world["a"]]
    supervisor = login_as("supervisor", username="sup2")
    with time_machine.travel(OVERDUE, tick=False):
        instance_url = _instance_url(world, task_id)
        supervisor.post_form(f"/letters/manual/{task_id}", {"next": instance_url}, form_url=instance_url)
        resp = supervisor.post_form(
            f"/letters/manual/{task_id}", {"next": instance_url}, form_url="/letters", follow_redirects=True
        )
    assert "该事项已发出督办函" in resp.get_data(as_text=True)
    with world["app"].app_context():
        assert db.session.query(SupervisionLetter).count() == 1


def test_a_letter_by_hand_on_a_task_not_yet_overdue_is_refused(world, login_as):
    task_id = world["deploy"][world["a"]]
    supervisor = login_as("supervisor", username="sup2")
    instance_url = _instance_url(world, task_id)
    assert "发督办函" not in supervisor.get(instance_url).get_data(as_text=True)
    resp = supervisor.post_form(
        f"/letters/manual/{task_id}", {"next": instance_url}, form_url="/letters", follow_redirects=True
    )
    assert "该事项尚未逾期" in resp.get_data(as_text=True)
    with world["app"].app_context():
        assert db.session.query(SupervisionLetter).count() == 0
        assert db.session.query(Escalation).count() == 0


def test_unit_staff_cannot_issue_letters(world, login_as):
    staff = login_as("unit_staff", world["a"], username="staffA")
    with time_machine.travel(OVERDUE, tick=False):
        resp = staff.post_form(f"/letters/manual/{world['deploy'][world['a']]}", {}, form_url="/letters")
    assert resp.status_code == 403


def test_service_refuses_a_past_new_deadline(world, ctx):
    user = db.session.get(User, world["supervisor"])
    with (
        time_machine.travel(OVERDUE, tick=False),
        pytest.raises(manual_letters.LetterRefused, match="新的办理期限须晚于今天"),
    ):
        manual_letters.issue_manual(user, world["deploy"][world["a"]], date(2026, 12, 1))
    assert db.session.query(Escalation).count() == 0


def _instance_url(world, task_id) -> str:
    with world["app"].app_context():
        return f"/supervise/instances/{db.session.get(Task, task_id).instance_id}"


def test_ready_tasks_helper_still_sees_the_overdue_task(world, ctx):
    # The letter does not complete or cancel the unit's step: it stays open for the unit.
    instance_id = db.session.get(Task, world["deploy"][world["a"]]).instance_id
    issue_by_tick(world)
    assert [t.element_id for t in ready_tasks(instance_id, "deploy")] == ["deploy"]


def test_letters_not_yet_acknowledged_come_first(world, login_as):
    ids = issue_by_tick(world)
    newer, older = max(ids.values()), min(ids.values())
    unit_of_newer = next(u for u, i in ids.items() if i == newer)
    with time_machine.travel(AFTER_LETTER, tick=False):
        staff = login_as("unit_staff", unit_of_newer, username="staffNewer")
        assert staff.post_form(f"/letters/{newer}/acknowledge", {}, form_url="/letters").status_code == 302
        supervisor = login_as("supervisor", username="sup2")
        page = supervisor.get("/letters").get_data(as_text=True)
        waiting = supervisor.get("/letters?acknowledged=no").get_data(as_text=True)
    assert page.index(f'data-letter="{older}"') < page.index(f'data-letter="{newer}"')
    assert f'data-letter="{older}"' in waiting and f'data-letter="{newer}"' not in waiting


def test_docx_renders_stored_text_with_characters_xml_forbids(world, login_as):
    """Text stored before input was checked (a control character in a unit's name or an item)
    still gives a letter: the characters are dropped, the rest is kept."""
    letter_id = issue_by_tick(world)[world["a"]]
    with world["app"].app_context():
        letter = db.session.get(SupervisionLetter, letter_id)
        letter.subject = "关于\x01督办的函"
        letter.body = "塘渡口镇\x0b：\n请于期限内办结。\x1f"
        letter.items = [{"seq": 1, "title": "路灯\x00工程", "deadline": "2027-03-31"}]
        db.session.commit()
    resp = login_as("unit_staff", world["a"], username="staffA").get(f"/letters/{letter_id}.docx")
    assert resp.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(resp.data)).paragraphs)
    assert "关于督办的函" in text and "请于期限内办结。" in text
    table = Document(io.BytesIO(resp.data)).tables[0]
    assert table.rows[1].cells[1].text == "路灯工程"

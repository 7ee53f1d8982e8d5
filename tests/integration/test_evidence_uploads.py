"""Evidence uploads on task pages and photos in the tip box: types told by content, images verified,
caps per file, per task and per tip, names cleaned, and friendly pages for too large and wrong type."""

import io
import struct
import zlib
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Evidence, ProcessInstance, Task, Tip, User
from app.services.campaigns import launch
from app.services.tasks import tasks
from tests.public_support import post_tip, publish, tip_fields
from tests.support import DEPLOY, JPEG, PNG, form_for, make_campaign, ready_tasks

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 112 + b"PE\x00\x00" + b"\x00" * 64


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A few hundred bytes that claim 900 million pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def world(app, make_unit, make_user, login_as):
    unit = make_unit("A01", "塘渡口镇")
    with app.app_context():
        campaign = make_campaign([unit])
        launch.launch_all(campaign, None)
        instance = db.session.query(ProcessInstance).filter_by(unit_id=unit).one().id
        task_id = ready_tasks(instance, "deploy")[0].id
    staff = login_as("unit_staff", unit, username="staffA")
    return SimpleNamespace(
        app=app, unit=unit, campaign=campaign, instance=instance, task=task_id, staff=staff, url=f"/my/tasks/{task_id}"
    )


def post(w, files: dict, action: str = "draft", **fields):
    data = {**DEPLOY, **fields, "action": action, **files}
    return w.staff.post_form(w.url, data, content_type="multipart/form-data")


def stored(w) -> list[tuple[str, str, int]]:
    with w.app.app_context():
        return [
            (e.filename, e.content_type, e.size)
            for e in db.session.query(Evidence).filter_by(task_id=w.task).order_by(Evidence.id)
        ]


def test_a_renamed_executable_is_refused_naming_the_file_and_the_answers_stay(world):
    w = world
    for action in ("draft", "submit"):
        resp = post(w, {"plan": (io.BytesIO(EXE), "实施方案.jpg")}, action, attendees="全体班子成员和驻村干部")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 415
        assert "文件「实施方案.jpg」的扩展名是 .jpg，但内容不是JPG 图片（识别为：EXE），已拒绝" in page
        assert "文件类型不符，未能保存" in page
        assert "全体班子成员和驻村干部" in page  # what was typed is on the page again
    assert stored(w) == []
    with w.app.app_context():
        assert db.session.get(Task, w.task).status == "ready"


def test_real_jpg_png_and_pdf_are_accepted_with_their_types(world):
    w = world
    for name, content in (("现场.jpg", JPEG), ("截图.png", PNG), ("方案.pdf", PDF)):
        assert post(w, {"plan": (io.BytesIO(content), name)}).status_code == 302
    assert stored(w) == [
        ("现场.jpg", "image/jpeg", len(JPEG)),
        ("截图.png", "image/png", len(PNG)),
        ("方案.pdf", "application/pdf", len(PDF)),
    ]


def test_the_field_accept_list_is_enforced_before_anything_is_stored(world):
    # deploy.yaml's plan takes pdf, doc, docx, wps, jpg, png, xlsx, xls: a real text file is refused.
    resp = post(world, {"plan": (io.BytesIO("会议纪要".encode()), "纪要.txt")})
    assert resp.status_code == 415
    assert "「纪要.txt」的类型不允许上传，此处仅限：PDF、DOC、DOCX、WPS、JPG、JPEG、PNG、XLSX、XLS" in resp.get_data(
        as_text=True
    )
    assert stored(world) == []


def test_an_image_bomb_is_refused_as_too_large(world):
    resp = post(world, {"plan": (io.BytesIO(png_bomb()), "现场.png")})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "图片「现场.png」" in page and "5000 万像素" in page and "文件过大，未能保存" in page
    assert stored(world) == []


def test_caps_per_file_and_per_task(world, monkeypatch):
    w = world
    monkeypatch.setitem(w.app.config, "EVIDENCE_MAX_FILE_BYTES", 1024)
    resp = post(w, {"plan": (io.BytesIO(PDF + b"\x00" * 2048), "大.pdf")})
    assert resp.status_code == 413 and "「大.pdf」大小为 2 KB，超过了单个文件 1 KB 的上限" in resp.get_data(
        as_text=True
    )
    monkeypatch.setitem(w.app.config, "EVIDENCE_MAX_FILES_PER_TASK", 2)
    for name in ("一.pdf", "二.pdf"):
        assert post(w, {"plan": (io.BytesIO(PDF), name)}).status_code == 302
    resp = post(w, {"plan": (io.BytesIO(PDF), "三.pdf")}, attendees="第三次填写")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "每个事项最多上传 2 个文件：已有 2 个，本次又选了 1 个" in page
    assert "第三次填写" in page
    monkeypatch.setitem(w.app.config, "EVIDENCE_MAX_FILES_PER_TASK", 30)
    monkeypatch.setitem(w.app.config, "EVIDENCE_MAX_BYTES_PER_TASK", 3 * len(PDF) - 1)
    resp = post(w, {"plan": (io.BytesIO(PDF), "三.pdf")})
    assert resp.status_code == 413 and "每个事项的文件合计不能超过" in resp.get_data(as_text=True)
    assert [name for name, _, _ in stored(w)] == ["一.pdf", "二.pdf"]


def test_stored_names_are_cleaned(world):
    w = world
    assert post(w, {"plan": (io.BytesIO(PDF), "../../.隐藏 方案.pdf")}).status_code == 302
    # What a browser would not send, a script can: CR/LF, NUL, a path, a bidi override.
    with w.app.test_request_context("/", method="POST"):
        user = db.session.query(User).filter_by(username="staffA").one()
        upload = FileStorage(io.BytesIO(PDF), filename="C:\\temp\\..\\报告\r\n\x00\u202e 整改.pdf")
        form = form_for(w.app, "deploy", DEPLOY, {"plan": upload})
        tasks.save_draft(user, w.task, form)
    assert [name for name, _, _ in stored(w)] == ["隐藏 方案.pdf", "报告 整改.pdf"]


def test_a_post_over_the_request_limit_gets_the_task_page_with_the_limit_and_the_draft(world, monkeypatch):
    w = world
    assert post(w, {}, attendees="上次保存的草稿").status_code == 302
    monkeypatch.setitem(w.app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    resp = post(w, {"plan": (io.BytesIO(PDF + b"\x00" * 100 * 1024), "大.pdf")}, "submit", attendees="这次没收到")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "未能接收：单次提交不能超过 64 KB，单个文件不超过 20 MB" in page
    assert "动员部署" in page and 'name="lock_version"' in page and "保存草稿" in page  # the task page, not a bare 413
    assert "上次保存的草稿" in page and "这次没收到" not in page
    assert stored(w) == []
    # Any other page over the limit says what the limit is.
    other = w.staff.client.post(
        "/logout", data={"f": (io.BytesIO(b"\x00" * 100 * 1024), "x.bin")}, content_type="multipart/form-data"
    )
    assert other.status_code == 413 and "上传的内容过大：单次提交不能超过 64 KB" in other.get_data(as_text=True)


@pytest.fixture
def tip_world(app, make_unit):
    unit = make_unit("A01", "塘渡口镇")
    with app.app_context():
        campaign = make_campaign([unit])
        launch.launch_all(campaign, None)
        slug, slugs = publish(campaign)
    return SimpleNamespace(app=app, slug=slug, unit_slug=slugs[unit])


def tip_count(app) -> int:
    with app.app_context():
        return db.session.query(Tip).count()


def test_tip_photos_renamed_executable_and_bomb_are_refused(tip_world, client):
    w = tip_world
    resp = post_tip(client, w.slug, tip_fields(w.unit_slug), [("现场.jpg", EXE)])
    assert (
        resp.status_code == 415
        and "「现场.jpg」的扩展名是 .jpg，但内容不是JPG 图片（识别为：EXE）" in resp.get_data(as_text=True)
    )
    resp = post_tip(client, w.slug, tip_fields(w.unit_slug), [("现场.png", png_bomb())], remote_addr="203.0.113.8")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "图片「现场.png」" in page and "万像素" in page
    assert "广场占用耕地，规模超标。" in page  # the form again, with what was typed
    assert tip_count(w.app) == 0


def test_tip_over_the_request_limit_gets_the_form_with_the_limits(tip_world, client, monkeypatch):
    w = tip_world
    monkeypatch.setitem(w.app.config, "MAX_CONTENT_LENGTH", 256 * 1024)
    monkeypatch.setitem(w.app.config, "TIP_MAX_TOTAL_BYTES", 64 * 1024)
    resp = post_tip(client, w.slug, tip_fields(w.unit_slug), [("现场.jpg", JPEG + b"\x00" * 300 * 1024)])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "提交的内容过大：照片最多 4 张，每张不超过 5 MB，合计不超过 64 KB" in page
    assert 'name="description"' in page and 'name="photos"' in page  # the tip form, not a bare error page
    assert tip_count(w.app) == 0

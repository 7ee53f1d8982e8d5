"""The one pager (_paging.html): every paged list draws it from a paging.Page, and its links keep the
list's filters while changing only the page."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import render_template_string

from app.services.oversight.matrix import Matrix
from app.services.shared.paging import Page
from app.web.paging import of_matrix, page_url

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
PAGER = '{% from "_paging.html" import pager %}{{ pager(page, *args, **kwargs) }}'


def render(page, *args, **kwargs) -> str:
    return render_template_string(PAGER, page=page, args=args, kwargs=kwargs)


def query(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def test_links_keep_the_filters_and_change_only_the_page(app):
    with app.test_request_context("/ledger/campaigns/7?status=open&unit=3&source=x&page=2&_external=1&_anchor=a"):
        html = render(Page(list(range(50)), 260, 2, 50))
        prev_url, next_url = re.findall(r'href="([^"]+)"', html)
        assert urlsplit(prev_url.replace("&amp;", "&")).path == "/ledger/campaigns/7"
        assert query(prev_url.replace("&amp;", "&")) == {
            "page": ["1"],
            "status": ["open"],
            "unit": ["3"],
            "source": ["x"],
        }
        assert query(next_url.replace("&amp;", "&")) == {
            "page": ["3"],
            "status": ["open"],
            "unit": ["3"],
            "source": ["x"],
        }
        assert "//" not in prev_url and "#" not in prev_url  # url_for's own arguments are not taken from the query
    assert '<nav class="pager" aria-label="分页">' in html
    assert 'rel="prev"' in html and ">上一页</a>" in html and 'rel="next"' in html and ">下一页</a>" in html
    assert "第 2 / 6 页，共 260 条" in html


def test_a_second_list_on_the_page_pages_by_its_own_name(app):
    with app.test_request_context("/supervise/escalations?level=letter&page=3&tpage=2"):
        html = render(Page([], 120, 2, 50), "tpage", label="逾期事项分页")
        assert 'aria-label="逾期事项分页"' in html
        first, last = (query(u.replace("&amp;", "&")) for u in re.findall(r'href="([^"]+)"', html))
    assert first == {"tpage": ["1"], "level": ["letter"], "page": ["3"]}
    assert last == {"tpage": ["3"], "level": ["letter"], "page": ["3"]}


def test_every_value_of_a_repeated_argument_is_kept(app):
    with app.test_request_context("/supervise/escalations?unit=a&unit=b"):
        assert query(page_url(2)) == {"page": ["2"], "unit": ["a", "b"]}


def test_a_list_drawn_by_a_post_pages_through_its_get_route(app):
    with app.test_request_context("/ledger/campaigns/7/import", method="POST"):
        assert page_url(2, endpoint="ledger.campaign") == "/ledger/campaigns/7?page=2"


def test_one_page_draws_no_pager_and_english_has_english_labels(app):
    with app.test_request_context("/audit/campaigns/1"):
        assert render(Page([1, 2], 2, 1, 50)).strip() == ""
    with app.test_request_context("/audit/campaigns/1?lang=en"):
        html = render(Page([], 120, 1, 50))
    assert ">Next</a>" in html and "上一页" not in html and 'aria-label="分页"' not in html


def test_a_paged_matrix_is_a_page_of_the_units_it_shows():
    grid = Matrix(campaign_id=1, total=75, phase_counts={}, light_counts={}, rows=[], page=2, per_page=30)
    assert (of_matrix(grid).total, of_matrix(grid).pages, of_matrix(grid).page) == (75, 3, 2)
    grid.matched = 31  # drilled down to a phase
    assert (of_matrix(grid).total, of_matrix(grid).pages) == (31, 2)


def test_every_paged_list_uses_the_one_pager():
    """Only _paging.html draws a pager; the lists that page import it."""
    drawn = [
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*.html")
        if 'class="pager"' in p.read_text(encoding="utf-8")
    ]
    assert drawn == ["_paging.html"]
    users = {
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*.html")
        if '{% from "_paging.html" import pager %}' in p.read_text(encoding="utf-8")
    }
    assert users == {
        "admin/matrix.html",
        "admin/units.html",
        "assessor/queue.html",
        "audit/trail.html",
        "ledger/register.html",
        "letters/list.html",
        "public/campaign.html",
        "supervisor/board.html",
        "supervisor/dashboard_escalations.html",
        "supervisor/dashboard_items.html",
        "supervisor/dashboard_overdue.html",
        "supervisor/queue.html",
    }

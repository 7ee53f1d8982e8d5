"""No inline code in what the app serves: every script is a built file (assets/src/ -> asset_url), every
style is in a stylesheet (assets/css/), and no element carries an on* handler, so a
Content-Security-Policy can forbid inline scripts and styles (script-src 'self'; style-src 'self').
A JSON data block (<script type="application/json">) is allowed: the browser never runs it."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "app" / "templates").rglob("*.html"))
# Python that builds HTML: the routes and the form widgets (render_kw).
PYTHON = sorted(p for d in ("app/web", "app/forms") for p in (ROOT / d).rglob("*.py"))

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
INLINE = {
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style= attribute": re.compile(r"""[\s"'](style\s*=)""", re.I),
    "an on*= handler attribute": re.compile(r"""[\s"'](on[a-z]+\s*=\s*["'{])""", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def inline_code(text: str) -> list[str]:
    found = []
    for tag in SCRIPT_TAG.findall(text):
        if not re.search(r"\bsrc\s*=", tag, re.I) and not re.search(
            r"""\btype\s*=\s*["']application/json["']""", tag, re.I
        ):
            found.append(f"an inline script: {tag}")
    for what, pattern in INLINE.items():
        found.extend(f"{what}: {m.group(0).strip()}" for m in pattern.finditer(text))
    return found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "app" / "templates")))
def test_template_has_no_inline_script_style_or_handler(template):
    assert inline_code(template.read_text(encoding="utf-8")) == []


def test_python_renders_no_inline_style_or_script():
    offenders = []
    for path in PYTHON:
        text = path.read_text(encoding="utf-8")
        for line_no, line in enumerate(text.splitlines(), 1):
            if re.search(r"""["']style["']\s*:|\bstyle\s*=|<script|<style|["']on[a-z]+["']\s*:""", line):
                offenders.append(f"{path.relative_to(ROOT)}:{line_no}: {line.strip()}")
    assert offenders == []


def test_the_check_finds_what_it_looks_for():
    bad = (
        '<script>alert(1)</script><div style="width: 5%"><form onsubmit=\'return confirm("x")\'>'
        '<a href="javascript:void(0)"><style>p{}</style><button type="button" onclick="print()">'
    )
    assert len(inline_code(bad)) == 6
    good = (
        '<script src="/static/build/app-ABCDEFGH.js" defer></script>'
        '<script id="data" type="application/json">{"a": 1}</script>'
        '<div class="progress-bar" data-progress="40" data-confirm="确定？"></div>'
        '<form data-on-submit="x"><p>one=1 styles online</p>'
    )
    assert inline_code(good) == []

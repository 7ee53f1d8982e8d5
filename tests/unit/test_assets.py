"""Built assets: asset_url() resolves a logical name through the build's manifest to a content-hashed
file, says to run `make setup` when the build is missing, and the files may be cached for good."""

import json
import os
import re
from pathlib import Path

import pytest
from flask import Flask

from app.web import assets
from app.web.assets import AssetError, asset_url

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def _app(static: Path, debug: bool = False) -> Flask:
    app = Flask(__name__, static_folder=str(static), static_url_path="/static")
    app.debug = debug
    assets.register(app)
    return app


def _write(static: Path, entries: dict) -> Path:
    path = static / "build" / "manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_a_logical_name_resolves_to_its_hashed_file(tmp_path):
    _write(
        tmp_path, {"app.css": "build/app-ABCD2345.css", "vendor/echarts.min.js": "build/vendor/echarts.min-0a1b2c3d.js"}
    )
    app = _app(tmp_path)
    with app.test_request_context():
        assert asset_url("app.css") == "/static/build/app-ABCD2345.css"
        assert asset_url("vendor/echarts.min.js") == "/static/build/vendor/echarts.min-0a1b2c3d.js"
        rendered = app.jinja_env.from_string("{{ asset_url('app.css') }}").render()
    assert rendered == "/static/build/app-ABCD2345.css"


def test_a_missing_manifest_says_to_run_make_setup(tmp_path):
    app = _app(tmp_path)
    with app.test_request_context(), pytest.raises(AssetError, match=r"manifest\.json is missing.*make setup"):
        asset_url("app.css")


def test_a_name_missing_from_the_manifest_says_to_run_make_setup(tmp_path):
    _write(tmp_path, {"app.css": "build/app-ABCD2345.css"})
    app = _app(tmp_path)
    with app.test_request_context(), pytest.raises(AssetError, match=r"'board\.js' is not in .*make setup"):
        asset_url("board.js")


def test_the_manifest_is_read_once_and_again_in_debug_when_it_changes(tmp_path):
    path = _write(tmp_path, {"app.css": "build/app-AAAA2222.css"})
    quiet, debug = _app(tmp_path), _app(tmp_path, debug=True)
    for app in (quiet, debug):
        with app.test_request_context():
            assert asset_url("app.css") == "/static/build/app-AAAA2222.css"
    path.write_text(json.dumps({"app.css": "build/app-BBBB3333.css"}), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    with quiet.test_request_context():
        assert asset_url("app.css") == "/static/build/app-AAAA2222.css"  # cached for the process
    with debug.test_request_context():
        assert asset_url("app.css") == "/static/build/app-BBBB3333.css"  # a rebuild shows at once


def test_built_files_are_cached_for_a_year_and_the_manifest_is_not(tmp_path):
    _write(tmp_path, {"app.css": "build/app-ABCD2345.css"})
    (tmp_path / "build" / "app-ABCD2345.css").write_text("body{}", encoding="utf-8")
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    client = _app(tmp_path).test_client()
    built = client.get("/static/build/app-ABCD2345.css")
    assert built.status_code == 200
    assert (
        built.cache_control.max_age == 365 * 24 * 3600 and built.cache_control.immutable and built.cache_control.public
    )
    for other in ("/static/build/manifest.json", "/static/plain.txt"):
        resp = client.get(other)
        assert resp.status_code == 200 and not resp.cache_control.immutable, other
        resp.close()
    built.close()


def test_every_asset_the_templates_name_is_built(app):
    """The real build (make setup) has a hashed file for each asset_url('...') in the templates."""
    names = set()
    for template in TEMPLATES.rglob("*.html"):
        names.update(re.findall(r"asset_url\(['\"]([^'\"]+)['\"]\)", template.read_text(encoding="utf-8")))
    assert {"app.css", "designer.js", "forms.js", "vendor/echarts.min.js"} <= names
    entries = assets.manifest(app)
    static = Path(app.static_folder)
    for name in sorted(names):
        assert name in entries, f"{name} is not built (assets/build.mjs)"
        stem, ext = name.rsplit("/", 1)[-1].rsplit(".", 1)
        assert re.fullmatch(rf"build/(vendor/)?{re.escape(stem)}-[0-9A-Za-z]{{8}}\.{ext}", entries[name]), entries[name]
        assert (static / entries[name]).is_file(), entries[name]

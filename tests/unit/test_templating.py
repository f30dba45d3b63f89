"""Templates compiled into the package are loaded, never trusted when their source changed,
and a function never writes into its (read-only) code directory."""

import jinja2
import pytest
from flask import Flask

from tests.conftest import TEST_SECRET
from webapp import create_app, templating
from webapp.config import Settings


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    return create_app(Settings(secret_key=TEST_SECRET, local_mode=False, bucket="media", table="media"))


def compiles(monkeypatch) -> list[str]:
    """The names of the templates Jinja compiles from here on."""
    compiled = []
    original = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return original(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return compiled


def fresh(directory, templates) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)),
                              bytecode_cache=templating.PackagedTemplates(directory))


def test_every_template_of_the_app_is_compiled_once_and_then_loaded(app, tmp_path, monkeypatch):
    names = templating.compile_all(app, tmp_path / "cache")
    assert "index.html" in names and "base.html" in names and "email/share.txt" in names
    assert len(list((tmp_path / "cache").iterdir())) == len(names)

    # A new process: the app's own environment, reading the cache.
    again = create_app(app.config["MEDIAHUB"])
    again.jinja_env.bytecode_cache = templating.PackagedTemplates(tmp_path / "cache")
    compiled = compiles(monkeypatch)
    page = again.test_client().get("/")
    assert page.status_code == 200 and b"<h1>Upload files</h1>" in page.data
    assert compiled == []


def test_a_changed_template_is_compiled_again_and_nothing_is_written(tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("old {{ value }}")
    writer = fresh(tmp_path / "cache", templates)
    writer.bytecode_cache.write = True
    (tmp_path / "cache").mkdir()
    writer.get_template("page.html")
    before = {path.name: path.read_bytes() for path in (tmp_path / "cache").iterdir()}

    (templates / "page.html").write_text("new {{ value }}")
    compiled = compiles(monkeypatch)
    assert fresh(tmp_path / "cache", templates).get_template("page.html").render(value=1) == "new 1"
    assert compiled == ["page.html"]
    assert {path.name: path.read_bytes() for path in (tmp_path / "cache").iterdir()} == before


def test_the_key_is_the_name_not_where_the_package_was_built(tmp_path):
    built, unpacked = tmp_path / "build", tmp_path / "task"
    for root in (built, unpacked):
        (root / "templates").mkdir(parents=True)
        (root / "templates" / "page.html").write_text("{{ value }}")
    writer = fresh(tmp_path / "cache", built / "templates")
    writer.bytecode_cache.write = True
    (tmp_path / "cache").mkdir()
    writer.get_template("page.html")
    reader = fresh(tmp_path / "cache", unpacked / "templates")
    bucket = reader.bytecode_cache.get_bucket(reader, "page.html", str(unpacked / "templates" / "page.html"),
                                              "{{ value }}")
    assert bucket.code is not None


def test_a_checkout_has_no_packaged_templates():
    app = Flask(__name__)
    templating.use_packaged(app)
    assert not templating.PACKAGED.exists() and app.jinja_env.bytecode_cache is None

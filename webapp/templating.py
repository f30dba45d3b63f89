"""Templates compiled when the Lambda package is built, loaded at a cold start instead.

Jinja compiles each template to Python the first time a process renders it: on a cold start
the upload page's templates cost about as much as importing Flask's own routing (see the
README's cold-start table). ``infra.package`` renders nothing but asks the app's own Jinja
environment for every template once, with Jinja's own bytecode cache writing into the package
(``PACKAGED``); the function reads those entries and writes nothing (its code directory is
read-only).

Jinja keeps an entry only for the same template source (it compares a checksum of the
source) and the same Python (a magic number in each entry); any other template is compiled
as before. Entries are keyed by the template's name alone: the package is built in one
directory and unpacked in ``/var/task``, and Jinja's default key names the file's path.
"""

from __future__ import annotations

import hashlib
import pathlib

from jinja2 import FileSystemBytecodeCache

PACKAGED = pathlib.Path(__file__).resolve().parents[1] / "template-bytecode"


class PackagedTemplates(FileSystemBytecodeCache):
    """Jinja's file-system bytecode cache, keyed by name, written only when ``write``."""

    def __init__(self, directory: pathlib.Path, *, write: bool = False):
        super().__init__(str(directory))
        self.write = write

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return hashlib.sha1(name.encode("utf-8")).hexdigest()

    def dump_bytecode(self, bucket) -> None:
        if self.write:
            super().dump_bytecode(bucket)


def use_packaged(app) -> None:
    """Read the package's compiled templates when there are any (never in a checkout)."""
    if PACKAGED.is_dir():
        app.jinja_env.bytecode_cache = PackagedTemplates(PACKAGED)


def compile_all(app, directory: pathlib.Path, *, moved_to: tuple[pathlib.Path, str] | None = None) -> list[str]:
    """Every template the app can render, compiled into ``directory``; their names.

    ``moved_to`` (built in, unpacked in): the code names each template's file where the
    function will read it (``/var/task/templates/...``), as the package's bytecode does.
    """
    directory.mkdir(parents=True, exist_ok=True)
    env = app.jinja_env
    cache = PackagedTemplates(directory, write=True)
    names = sorted(env.list_templates())
    for name in names:
        source, filename, _ = env.loader.get_source(env, name)
        shown = filename
        if moved_to and filename:
            built, unpacked = moved_to
            shown = f"{unpacked}/{pathlib.Path(filename).resolve().relative_to(built.resolve()).as_posix()}"
        bucket = cache.get_bucket(env, name, filename, source)
        bucket.code = env.compile(source, name, shown)
        cache.set_bucket(bucket)
    return names

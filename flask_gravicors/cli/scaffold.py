"""``flask gravicors new-plugin NAME``: a ready policy plugin package in ./NAME/.

Needs no app. The package installs with ``pip install -e ./NAME`` (its policy is
found through the ``flask_gravicors`` entry point) and its tests, written with
:mod:`flask_gravicors.testing`, pass as generated. The files come from the
templates in ``plugin_template/`` (``string.Template``: ``$$`` is a literal ``$``).
"""

from __future__ import annotations

import keyword
import re
import sys
from importlib import resources
from pathlib import Path
from string import Template

import click

from .. import __version__
from . import EXIT_CONFLICT, gravicors

#: Lower-case letters, digits and single hyphens, starting with a letter: the name
#: is the distribution's and the policy's, and with "_" for "-" the package's.
NAME_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

#: Template path (under plugin_template/) -> path in the new package ("package"
#: stands for the package's directory).
FILES = {
    "setup.cfg.tmpl": "setup.cfg",
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "package/__init__.py",
    "tests/test_policy.py.tmpl": "tests/test_policy.py",
}


def plugin_names(name: str) -> dict[str, str]:
    """The names a template uses, or ``ValueError`` saying why ``name`` cannot be one."""
    if NAME_RE.fullmatch(name) is None:
        raise ValueError("use lower-case letters, digits and single hyphens, starting with a letter (e.g. add-header)")
    package = name.replace("-", "_")
    if keyword.iskeyword(package) or package in sys.stdlib_module_names:
        raise ValueError(f"{package!r} is a Python keyword or standard module: choose another name")
    return {
        "name": name,
        "package": package,
        "class_stem": "".join(part.capitalize() for part in name.split("-")),
        "core_version": __version__,
    }


def render(names: dict[str, str]) -> dict[str, str]:
    """Relative path -> content of every file of the new package."""
    root = resources.files(__package__).joinpath("plugin_template")
    out = {}
    for template, target in FILES.items():
        text = root.joinpath(template).read_text(encoding="utf-8")
        out[target.replace("package/", names["package"] + "/")] = Template(text).substitute(names)
    return out


@gravicors.command("new-plugin", with_appcontext=False)
@click.argument("name")
def new_plugin(name: str) -> None:
    """Write a policy plugin package NAME into ./NAME/.

    NAME is lower-case letters, digits and hyphens: the distribution's name, the
    policy's name in a config, and (with "_" for "-") the package's. The package
    has a policy with a marshmallow config schema, its flask_gravicors entry point
    in setup.cfg, and tests written with flask_gravicors.testing. Prints the files
    written; exit status 2 when ./NAME exists.
    """
    try:
        names = plugin_names(name)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="NAME") from None
    target = Path(name)
    if target.exists():
        click.echo(f"{target}: already exists; nothing written", err=True)
        sys.exit(EXIT_CONFLICT)
    for relative, content in render(names).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        click.echo(str(path))
    click.echo(f"next: pip install -e './{name}[test]' && python -m pytest {name}", err=True)

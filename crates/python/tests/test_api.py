"""The type stubs cover the public API, and every public item has a docstring."""

from __future__ import annotations

import ast
import inspect
import pathlib

import delever

STUB = pathlib.Path(delever.__file__).with_name("__init__.pyi")


def stub_names():
    tree = ast.parse(STUB.read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef)
            } | {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
    return top, members


def test_the_stubs_are_installed_with_the_package():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


def test_every_public_name_is_in_the_stubs():
    top, members = stub_names()
    assert set(delever.__all__) <= top, set(delever.__all__) - top
    for cls in (delever.Scenario, delever.Report):
        public = {n for n in vars(cls) if not n.startswith("_")} | ({"_repr_html_"} & set(vars(cls)))
        assert public <= members[cls.__name__], public - members[cls.__name__]


def test_every_public_item_has_a_docstring():
    for name in delever.__all__:
        obj = getattr(delever, name)
        if callable(obj):
            assert inspect.getdoc(obj), name
    for cls in (delever.Scenario, delever.Report):
        for n, v in vars(cls).items():
            if not n.startswith("_"):
                assert inspect.getdoc(v), f"{cls.__name__}.{n}"

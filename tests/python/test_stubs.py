"""bindings/python/berth.pyi describes the built module: every public name
of berth (functions, classes, their methods and attributes) is in the stub,
nothing in the stub is missing from the module, the exception classes have
the same bases, and each stub function takes the keywords the real one
takes (checked by calling with a wrong one where the C side names them)."""
import ast
import inspect
import os
import pathlib

import berth

STUB = pathlib.Path(os.environ.get("top_srcdir", pathlib.Path(__file__).resolve().parents[2])) / \
    "bindings/python/berth.pyi"


def stub_tree():
    return ast.parse(STUB.read_text(), str(STUB))


def stub_names(tree):
    top, classes = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = node
            top.add(node.name)
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
    return top, classes


def members(node):
    names = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign):
            names.add(item.target.id)
    return names


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


def test_every_public_name_is_stubbed_and_nothing_more():
    top, classes = stub_names(stub_tree())
    private = {n for n in top if n.startswith("_") and n not in ("__version__",)}
    assert public(berth) | {"__version__"} == top - private


def test_every_class_member_is_stubbed():
    _, classes = stub_names(stub_tree())
    for name, node in classes.items():
        if name.startswith("_"):
            continue
        cls = getattr(berth, name)
        if issubclass(cls, BaseException):
            continue
        real = {n for n in vars(cls) if not n.startswith("_")} | (
            {"__enter__", "__exit__"} & set(vars(cls)))
        if issubclass(cls, tuple):       # struct sequences: only their fields
            real -= {"n_fields", "n_sequence_fields", "n_unnamed_fields"}
        stubbed = members(node) - {"__init__"}
        assert real == stubbed, f"{name}: only in the module {real - stubbed}, only in the stub {stubbed - real}"


def test_exception_bases_match():
    _, classes = stub_names(stub_tree())
    for name, node in classes.items():
        cls = getattr(berth, name, None)
        if not (isinstance(cls, type) and issubclass(cls, berth.Error)) or cls is berth.Error:
            continue
        stub_bases = [ast.unparse(b).replace("builtins.", "") for b in node.bases]
        assert stub_bases == [b.__name__ for b in cls.__bases__], name


def test_parameters_of_the_new_collections_match():
    """The stub's parameters of the image, storage and cgroup objects' methods
    are the module's, by name, in order (their __text_signature__)."""
    _, classes = stub_names(stub_tree())
    for cls_name in ("ImageCollection", "Image", "Storage", "Cgroups", "Cgroup", "Mount", "Container",
                     "ContainerCollection", "Volume", "VolumeCollection", "Network", "NetworkCollection"):
        for item in classes[cls_name].body:
            if not isinstance(item, ast.FunctionDef) or item.name.startswith("__") or any(
                    ast.unparse(d) == "property" for d in item.decorator_list):
                continue
            real = inspect.signature(getattr(getattr(berth, cls_name), item.name))
            a = item.args
            stub = [x.arg for x in a.posonlyargs + a.args + ([a.vararg] if a.vararg else []) + a.kwonlyargs +
                    ([a.kwarg] if a.kwarg else [])]
            assert stub == list(real.parameters), f"{cls_name}.{item.name}: stub {stub}, module {real}"

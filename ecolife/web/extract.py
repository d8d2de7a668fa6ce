"""pybabel's extractor for EcoLife's Python (babel.cfg): ``_()``-style calls, as Babel's own
extractor finds them, plus the ``message`` of every exception class.

A domain exception states its message once, as a class attribute
(``status, error, message = 409, "out_of_stock", "This reward is out of stock."``); the API
and the pages translate it when they answer (ecolife/errors.py). Babel's extractor only sees
function calls, so without this every such message would need a marker of its own.
"""
import ast

from babel.messages.extract import extract_python


def extract(fileobj, keywords, comment_tags, options):
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    tree = ast.parse(source.decode(options.get("encoding", "utf-8")))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                for lineno, text in _messages(statement):
                    yield lineno, None, text, []


def _messages(statement):
    """(line, text) of ``message = "..."`` or ``..., message = ..., "..."`` in a class body."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return
    target, value = statement.targets[0], statement.value
    if isinstance(target, ast.Name) and target.id == "message":
        pairs = [(target, value)]
    elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
        pairs = zip(target.elts, value.elts)
    else:
        return
    for name, text in pairs:
        if (isinstance(name, ast.Name) and name.id == "message"
                and isinstance(text, ast.Constant) and isinstance(text.value, str)):
            yield statement.lineno, text.value

"""Email templates in Jinja2's sandbox: parsing, the merge fields a template names, and
rendering with only the values a recipient may read.

A template's names are the fields of its object, dotted through lookups
(``{{ account.name }}``), plus ``owner`` for the record's owner (``{{ owner.name }}``,
the public columns of a user). The sandbox refuses attribute tricks (``__class__``),
bounds ``range`` and, here, string repetition and powers, so a template cannot reach
Python or exhaust memory. A name the recipient may not read — or an empty field — is
:class:`Hidden`: like SQL's NULL it prints empty, propagates through arithmetic, makes
comparisons false, and takes a ``default(...)``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

OWNER = "owner"
MAX_OUTPUT = 1_000_000  # characters one rendered part may have
MAX_POWER = 1_000
Path = tuple[str, ...]
JINJA_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self"})


class MailSandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` bounded (a template is data, not a program)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError("the power is too large")
            return operator.pow(left, right)
        if isinstance(left, str | list) or isinstance(right, str | list):
            size = len(left if isinstance(left, str | list) else right)
            count = right if isinstance(left, str | list) else left
            if isinstance(count, int) and size * count > MAX_OUTPUT:
                raise SecurityError("the repeated text is too long")
        return operator.mul(left, right)


class Hidden(ChainableUndefined):
    """A merge field with no value for this message (not readable by every recipient, or
    empty): it behaves as NULL does in expressions, so a template that compares or
    computes with it renders for everyone instead of failing for some."""

    __slots__ = ()

    def _null(self, *_args: Any) -> Hidden:
        return self

    def _false(self, _other: Any) -> bool:
        return False

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _null
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _null
    __mod__ = __rmod__ = __pow__ = __rpow__ = __neg__ = __pos__ = _null
    __lt__ = __le__ = __gt__ = __ge__ = _false


def _environment(html: bool) -> MailSandbox:
    return MailSandbox(
        autoescape=html,
        undefined=Hidden,
        finalize=lambda value: "" if value is None else value,
        keep_trailing_newline=True,
    )


TEXT = _environment(html=False)
HTML = _environment(html=True)


class MergeError(Exception):
    """A template that cannot be used: its syntax, or a merge field (``path`` names it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse(source: str) -> nodes.Template:
    """The template's syntax tree; :class:`MergeError` naming the line when it is wrong."""
    try:
        return TEXT.parse(source)
    except TemplateSyntaxError as exc:
        raise MergeError(f"line {exc.lineno}: {exc.message}") from exc


def merge_paths(tree: nodes.Template) -> list[Path]:
    """The merge fields a template reads, as dotted paths, in the order they appear
    (names the template binds itself, with ``set``, ``for`` or a macro, and Jinja's own
    globals such as ``range`` and ``loop`` are not merge fields)."""
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in {"store", "param"}}
    bound.update(m.name for m in tree.find_all(nodes.Macro))
    bound.update(TEXT.globals, JINJA_NAMES)
    found: dict[Path, None] = {}
    for path in _paths(tree):
        if path[0] not in bound:
            found[path] = None
    return list(found)


def _paths(node: nodes.Node) -> Iterator[Path]:
    """Each maximal ``name.attr.attr`` chain (``name['attr']`` too) under ``node``."""
    if isinstance(node, nodes.Getattr | nodes.Getitem):
        chain = _chain(node)
        if chain is not None:
            yield chain
            return
    if isinstance(node, nodes.Name) and node.ctx == "load":
        yield (node.name,)
        return
    for child in node.iter_child_nodes():
        yield from _paths(child)


def _chain(node: nodes.Node) -> Path | None:
    steps: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            steps.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            steps.append(node.arg.value)
        else:
            return None
        node = node.node
    if not isinstance(node, nodes.Name) or node.ctx != "load":
        return None
    return (node.name, *reversed(steps))


@dataclass(frozen=True)
class CompiledTemplate:
    """One ``email_template``, compiled for one metadata version."""

    name: str
    object: str
    subject: Template
    body: Template
    html_body: Template | None
    paths: tuple[Path, ...]  # every merge field the parts read


def compile_template(name: str, definition: Mapping[str, Any]) -> CompiledTemplate:
    """The template's parts compiled in the sandbox (raises :class:`MergeError`)."""
    paths: dict[Path, None] = {}
    for part in ("subject", "body", "html_body"):
        if definition.get(part):
            paths.update(dict.fromkeys(merge_paths(parse(definition[part]))))
    html = definition.get("html_body")
    return CompiledTemplate(
        name=name,
        object=definition["object"],
        subject=TEXT.from_string(definition["subject"]),
        body=TEXT.from_string(definition["body"]),
        html_body=HTML.from_string(html) if html else None,
        paths=tuple(paths),
    )


@dataclass(frozen=True)
class Rendered:
    """A message's parts as rendered for its recipients."""

    subject: str
    text: str
    html: str | None


def render(template: CompiledTemplate, values: Mapping[Path, Any]) -> Rendered:
    """The parts rendered with ``values`` (merge path -> value; paths left out print
    empty). The subject is one line; HTML is autoescaped, then sanitised by nh3."""
    context = merge_context(values)
    try:
        subject = " ".join(_bounded(template.subject.render(context)).split())
        text = _bounded(template.body.render(context))
        html = None
        if template.html_body is not None:
            import nh3  # with the first mail rendered (see fieldtypes.inputs.RichText)

            html = nh3.clean(_bounded(template.html_body.render(context)))
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise MergeError(f"template '{template.name}' failed to render: {exc}") from exc
    return Rendered(subject, text, html)


def _bounded(text: str) -> str:
    if len(text) > MAX_OUTPUT:
        raise MergeError(f"the rendered message is longer than {MAX_OUTPUT} characters")
    return text


class Linked:
    """A lookup in the merge context: prints as its own value (the id), and reads on
    into the record it points at (``account`` and ``account.name`` in one template).

    Not a ``dict``: Jinja tries attributes before items, and a field called ``items`` or
    ``update`` must read the field, never a method."""

    __slots__ = ("_fields", "_value")

    def __init__(self, value: Any = None) -> None:
        self._value = value
        self._fields: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __str__(self) -> str:
        return "" if self._value is None else str(self._value)

    def __bool__(self) -> bool:
        return self._value is not None or bool(self._fields)


def merge_context(values: Mapping[Path, Any]) -> dict[str, Any]:
    """Nested names for Jinja from flat merge paths (``('account', 'name')``); an empty
    value is left out (it is :class:`Hidden`, as a field the recipients may not read)."""
    context: dict[str, Any] = {}
    for path, value in sorted(values.items(), key=lambda item: len(item[0])):
        if value is None:
            continue
        fields = context
        for step in path[:-1]:
            current = fields.get(step)
            if not isinstance(current, Linked):
                current = fields[step] = Linked(current)
            fields = current._fields
        last = path[-1]
        if isinstance(fields.get(last), Linked):
            fields[last]._value = value
        else:
            fields[last] = value
    return context


def rename_merge_fields(source: str, rename: Callable[[Path], Path]) -> str:
    """``source`` with each merge-field path replaced by ``rename(path)``, everything
    else exactly as written (a rename rewrites templates as it does expressions).

    Works on Jinja's tokens: a name not after ``.``, ``|`` or ``is`` (an attribute, a
    filter, a test) starts a path that ``.name`` steps continue.
    """
    tokens = list(TEXT.lex(source))
    out = [value for _line, _kind, value in tokens]
    shown = [i for i, (_line, kind, _value) in enumerate(tokens) if kind != "whitespace"]
    index = 0
    while index < len(shown):
        position = shown[index]
        if tokens[position][1] != "name" or _continues(tokens, shown, index):
            index += 1
            continue
        chain = [position]
        while (
            index + 2 < len(shown)
            and tokens[shown[index + 1]][1:] == ("operator", ".")
            and tokens[shown[index + 2]][1] == "name"
        ):
            index += 2
            chain.append(shown[index])
        renamed = rename(tuple(tokens[i][2] for i in chain))
        for i, name in zip(chain, renamed, strict=True):
            out[i] = name
        index += 1
    return "".join(out)


def _continues(tokens: list[tuple[int, str, str]], shown: list[int], index: int) -> bool:
    """Whether the name at ``shown[index]`` follows ``.``, ``|`` or ``is``."""
    if index == 0:
        return False
    _line, kind, value = tokens[shown[index - 1]]
    return (kind == "operator" and value in {".", "|"}) or (kind == "name" and value == "is")

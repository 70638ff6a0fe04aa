"""A small Go text/template + Helm function renderer, enough for helm/linkfm/templates.

Helm is not installable here, so the chart tests render the templates with this subset:
actions with ``{{-``/``-}}`` trimming, comments, ``if``/``else``/``range``/``with``/
``define``/``end``, variables (``$x := ...``, ``$k, $v := range``), pipelines, parentheses,
field chains on maps, ``.Files.Get``, and the functions the chart uses (``include``,
``nindent``, ``indent``, ``toYaml``, ``toPrettyJson``, ``quote``, ``sha256sum``, ``default``,
``trimSuffix``, ``contains``, ``print``, ``dict``, ``eq``, ``not``). Anything else raises
:class:`TemplateError`, so a template that leaves the subset fails loudly rather than
rendering differently. ``helm template`` remains the authority; this checks structure.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml


class TemplateError(Exception):
    pass


# --- parsing ----------------------------------------------------------------------------------

_ACTION = re.compile(r"{{(-\s)?(.*?)(\s-)?}}", re.S)


@dataclass
class _Node:
    kind: str  # text, action, if, range, with, define
    text: str = ""
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)


def _split(source: str) -> list[tuple[str, str]]:
    """[("text", ...), ("action", ...)] with trim markers applied."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for match in _ACTION.finditer(source):
        text = source[pos:match.start()]
        if match.group(1):
            text = text.rstrip()
        if parts and parts[-1][0] == "trim_next":
            parts.pop()
            text = text.lstrip()
        parts.append(("text", text))
        body = match.group(2).strip()
        if not body.startswith("/*"):
            parts.append(("action", body))
        if match.group(3):
            parts.append(("trim_next", ""))
        pos = match.end()
    text = source[pos:]
    if parts and parts[-1][0] == "trim_next":
        parts.pop()
        text = text.lstrip()
    parts.append(("text", text))
    return parts


def parse(source: str) -> tuple[list[_Node], dict[str, list[_Node]]]:
    """(top-level nodes, defined templates)."""
    defines: dict[str, list[_Node]] = {}
    root = _Node("root")
    stack = [root]
    in_else = [False]
    for kind, text in _split(source):
        target = stack[-1].orelse if in_else[-1] else stack[-1].body
        if kind == "text":
            if text:
                target.append(_Node("text", text))
            continue
        word = text.split()[0] if text.split() else ""
        if word in ("if", "range", "with", "define"):
            node = _Node(word, text[len(word):].strip())
            target.append(node)
            stack.append(node)
            in_else.append(False)
        elif word == "else":
            if text != "else":
                raise TemplateError(f"unsupported: {{{{ {text} }}}}")
            in_else[-1] = True
        elif word == "end":
            node = stack.pop()
            in_else.pop()
            if node.kind == "define":
                target_list = stack[-1].orelse if in_else[-1] else stack[-1].body
                target_list.remove(node)
                defines[json.loads(node.text)] = node.body
        else:
            target.append(_Node("action", text))
    if len(stack) != 1:
        raise TemplateError("unclosed block")
    return root.body, defines


# --- expressions ------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|\||"(?:[^"\\]|\\.)*"|:=|,|[^\s()|,]+)')


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or not match.group(1):
            if text[pos:].strip() == "":
                break
            raise TemplateError(f"cannot tokenize {text!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def _go_string(value: Any) -> str:
    if value is None:
        raise TemplateError("printing a missing value (helm would print nothing)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"printing a {type(value).__name__} directly: {value!r}")
    return str(value)


def _indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False).rstrip("\n")


class Renderer:
    """Renders templates against a context (``.Values``, ``.Release``, ``.Files`` ...)."""

    def __init__(self, defines: dict[str, list[_Node]]) -> None:
        self.defines = defines
        self.functions: dict[str, Callable[..., Any]] = {
            "include": self._include,
            "nindent": lambda n, s: "\n" + _indent(n, s),
            "indent": _indent,
            "toYaml": _to_yaml,
            "toPrettyJson": lambda v: json.dumps(v, indent=2, sort_keys=True),
            "quote": lambda *v: " ".join(json.dumps(_go_string(x)) for x in v),
            "sha256sum": lambda s: hashlib.sha256(s.encode()).hexdigest(),
            "default": lambda d, v=None: v if _truthy(v) else d,
            "trimSuffix": lambda suffix, s: s.removesuffix(suffix),
            "contains": lambda sub, s: sub in s,
            "print": lambda *v: "".join(_go_string(x) for x in v),
            "dict": lambda *kv: dict(zip(kv[::2], kv[1::2], strict=True)),
            "eq": lambda a, b: a == b,
            "not": lambda v: not _truthy(v),
        }

    def _include(self, name: str, data: Any) -> str:
        if name not in self.defines:
            raise TemplateError(f"include of undefined template {name!r}")
        return self.execute(self.defines[name], data, {"$": data})

    # Evaluation of one pipeline ("a b | c d") in a scope.
    def _operand(self, token: str, dot: Any, scope: dict[str, Any]) -> Any:
        if token.startswith('"'):
            return json.loads(token)
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token in ("true", "false"):
            return token == "true"
        if token == ".":
            return dot
        if token.startswith(".") or token.startswith("$"):
            head, _, rest = token.partition(".") if token.startswith("$") else ("", "", token[1:])
            value = dot if not head else scope[head] if head in scope else _missing(head)
            for part in [p for p in rest.split(".") if p]:
                if isinstance(value, dict):
                    value = value.get(part)
                elif value is None:
                    raise TemplateError(f"nil pointer evaluating {token}")
                else:
                    value = getattr(value, part)
            return value
        raise TemplateError(f"unknown operand {token!r}")

    def _command(self, tokens: list[str], dot: Any, scope: dict[str, Any],
                 piped: list[Any]) -> Any:
        args: list[Any] = []
        i = 0
        while i < len(tokens):
            if tokens[i] == "(":
                depth, j = 1, i + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(tokens[j], 0)
                    j += 1
                value = self.pipeline(tokens[i + 1:j - 1], dot, scope)
                args.append(_Evaluated(value) if isinstance(value, str) else value)
                i = j
            else:
                args.append(tokens[i])
                i += 1
        head = args[0]
        if isinstance(head, str) and not isinstance(head, _Evaluated) and head in self.functions:
            values = [self._value(a, dot, scope) for a in args[1:]] + piped
            return self.functions[head](*values)
        value = self._value(head, dot, scope)
        rest = [self._value(a, dot, scope) for a in args[1:]] + piped
        if callable(value):
            return value(*rest)
        if rest:
            raise TemplateError(f"{head!r} is not a function")
        return value

    def _value(self, arg: Any, dot: Any, scope: dict[str, Any]) -> Any:
        if isinstance(arg, str) and not isinstance(arg, _Evaluated):
            if arg in self.functions:
                return self.functions[arg]()
            return self._operand(arg, dot, scope)
        return arg

    def pipeline(self, tokens: list[str], dot: Any, scope: dict[str, Any]) -> Any:
        commands: list[list[str]] = [[]]
        depth = 0
        for token in tokens:
            depth += {"(": 1, ")": -1}.get(token, 0)
            if token == "|" and depth == 0:
                commands.append([])
            else:
                commands[-1].append(token)
        result: list[Any] = []
        for command in commands:
            value = self._command(command, dot, scope, result)
            result = [_Evaluated(value) if isinstance(value, str) else value]
        out = result[0]
        return str(out) if isinstance(out, _Evaluated) else out

    def execute(self, nodes: list[_Node], dot: Any, scope: dict[str, Any]) -> str:
        out: list[str] = []
        scope = dict(scope)
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                tokens = _tokens(node.text)
                if len(tokens) > 2 and tokens[1] == ":=":
                    scope[tokens[0]] = self.pipeline(tokens[2:], dot, scope)
                else:
                    out.append(_go_string(self.pipeline(tokens, dot, scope)))
            elif node.kind in ("if", "with"):
                value = self.pipeline(_tokens(node.text), dot, scope)
                if _truthy(value):
                    out.append(self.execute(node.body, value if node.kind == "with" else dot,
                                            scope))
                else:
                    out.append(self.execute(node.orelse, dot, scope))
            elif node.kind == "range":
                out.append(self._range(node, dot, scope))
            else:
                raise TemplateError(f"unexpected {node.kind}")
        return "".join(out)

    def _range(self, node: _Node, dot: Any, scope: dict[str, Any]) -> str:
        tokens = _tokens(node.text)
        names: list[str] = []
        if ":=" in tokens:
            at = tokens.index(":=")
            names = [t for t in tokens[:at] if t != ","]
            tokens = tokens[at + 1:]
        items = self.pipeline(tokens, dot, scope)
        pairs = sorted(items.items()) if isinstance(items, dict) else list(enumerate(items or []))
        if not pairs:
            return self.execute(node.orelse, dot, scope)
        out = []
        for key, value in pairs:
            inner = dict(scope)
            if len(names) == 1:
                inner[names[0]] = value
            elif len(names) == 2:
                inner[names[0]], inner[names[1]] = key, value
            out.append(self.execute(node.body, value, inner))
        return "".join(out)


class _Evaluated(str):
    """A string produced by a command (not a token to be looked up again)."""


def _missing(name: str) -> Any:
    raise TemplateError(f"undefined variable {name}")

"""A small, safe expression language for gateway conditions, timers and task properties.

SpiffWorkflow evaluates expressions with Python's eval and full builtins, so a diagram
could run any code. Here every expression is parsed to an AST, checked against an
allow-list at deploy time, and evaluated by walking the tree: no eval, no imports, no
dunder attributes, no calls outside a few pure functions, and bounded sizes.
"""

import ast
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NoReturn

from app import workdays
from app.errors import Invalid
from app.i18n import ITEMS, Joined, LazyText, _l


class ExpressionError(Invalid):
    """An expression that is not allowed or cannot be evaluated.

    `unsafe` marks what only an attacker writes (dunder names, constructs that can run
    unbounded): an upload carrying one is refused outright, not merely linted.
    """

    code = "expression_invalid"

    def __init__(self, message: str | LazyText, unsafe: bool = False):
        super().__init__(message)
        self.unsafe = unsafe


MAX_LENGTH = 500
MAX_INT = 10**12
MAX_SEQUENCE = 10_000

_BIN_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CMP_OPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
# Constructs that can run without bound (powers, loops in comprehensions, functions):
# refused as an attack, not as a mistake.
_UNBOUNDED = (
    ast.Pow,
    ast.LShift,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Lambda,
    ast.NamedExpr,
    ast.Await,
    ast.Yield,
    ast.YieldFrom,
    ast.Starred,
    ast.JoinedStr,
    ast.FormattedValue,
)
# A %-format width or precision beyond this builds huge strings ('%0999999999d' % 1).
MAX_FORMAT_WIDTH = 100
_FORMAT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
# Far enough away to mean "never" for a timer that has no due time to count from.
NEVER = "9999-12-31T00:00:00+08:00"


def _moment(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=workdays.local_tz())


def ladder_at(due: Any, offset: Mapping[str, Any] | None) -> str:
    """When a rung of the overdue ladder fires: `due` (ISO time) moved by `offset`,
    {"days": n, "unit": "working" | "calendar"}. No due time: never."""
    if not due:
        return NEVER
    offset = offset or {}
    return workdays.shift(_moment(due), int(offset.get("days", 0)), offset.get("unit", "working")).isoformat()


def later(*values: str | None) -> str | None:
    """The latest of some ISO times (None ignored): a returned task's new deadline wins."""
    present = [v for v in values if v]
    return max(present, key=_moment) if present else None


FUNCTIONS = {
    "len": len,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "sum": sum,
    "any": any,
    "all": all,
    "ladder_at": ladder_at,
    "later": later,
}
CONSTANTS = {"True": True, "False": False, "None": None}
# The only method calls allowed: read-only lookups on data.
METHODS = {"get", "keys", "values", "items", "startswith", "endswith", "lower", "upper", "strip"}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Subscript,
    ast.Slice,
    ast.Attribute,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.keyword,
    *_BIN_OPS,
    *_CMP_OPS,
    *_UNARY_OPS,
)


def parse(expression: str) -> ast.Expression:
    """Parse and check an expression against the allow-list; raise ExpressionError."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError(_l("表达式为空"))
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(_l("表达式过长（超过%(max)s个字符）", max=MAX_LENGTH))
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(_l("表达式语法错误：%(error)s", error=exc.msg)) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(_l("表达式嵌套过深"), unsafe=True) from None
    nodes = list(ast.walk(tree))
    for node in nodes:  # attacks first, so they are named as such whatever else is wrong
        if isinstance(node, _UNBOUNDED):
            raise ExpressionError(
                _l("表达式中不允许使用 %(name)s（可能无限制地运行）", name=type(node).__name__), unsafe=True
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(_l("表达式中不允许访问属性 %(name)s", name=node.attr), unsafe=True)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(_l("表达式中不允许使用名称 %(name)s", name=node.id), unsafe=True)
        if isinstance(node, ast.BinOp):
            _check_operands(node)
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(_l("表达式中不允许使用 %(name)s", name=type(node).__name__))
        if isinstance(node, ast.Attribute) and node.attr not in METHODS:
            raise ExpressionError(_l("表达式中不允许访问属性 %(name)s", name=node.attr))
        if isinstance(node, ast.Call):
            func = node.func
            ok = (isinstance(func, ast.Name) and func.id in FUNCTIONS) or (
                isinstance(func, ast.Attribute) and func.attr in METHODS
            )
            if not ok:
                raise ExpressionError(_l("表达式只能调用允许的函数：%(names)s", names=Joined(sorted(FUNCTIONS), ITEMS)))
        if isinstance(node, ast.Constant):
            _check_size(node.value)
    return tree


def _check_operands(node: ast.BinOp) -> None:
    sides = (node.left, node.right)
    if isinstance(node.op, ast.Mult) and any(
        isinstance(s, (ast.List, ast.Tuple)) or isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides
    ):
        raise ExpressionError(_l("表达式中不允许重复序列"), unsafe=True)
    if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        _check_format(node.left.value)


def _check_format(template: str) -> None:
    for width, precision in _FORMAT_WIDTH.findall(template):
        if any(n == "*" or n and int(n) > MAX_FORMAT_WIDTH for n in (width, precision)):
            raise ExpressionError(_l("格式化宽度过大"), unsafe=True)


def names(tree: ast.Expression) -> set[str]:
    """The data names an expression reads (functions and constants left out)."""
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id not in CONSTANTS
    }


_cache: dict[str, ast.Expression] = {}


def evaluate(expression: str, data: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a checked expression over task data."""
    tree = _cache.get(expression)
    if tree is None:
        tree = parse(expression)
        if len(_cache) < 5000:
            _cache[expression] = tree
    names = dict(extra or {})
    names.update(data)
    return _Evaluator(names).visit(tree.body)


def _check_size(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ExpressionError(_l("数值过大"))
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_SEQUENCE:
        raise ExpressionError(_l("结果过长"))
    return value


class _Evaluator(ast.NodeVisitor):
    def __init__(self, names: Mapping[str, Any]) -> None:
        self.names = names

    def generic_visit(self, node: ast.AST) -> NoReturn:  # pragma: no cover - parse() refuses these first
        raise ExpressionError(_l("表达式中不允许使用 %(name)s", name=type(node).__name__))

    def visit_Constant(self, node: ast.Constant) -> Any:
        return node.value

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            return FUNCTIONS[node.id]
        raise ExpressionError(_l("未定义的变量 %(name)s", name=node.id))

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        result: Any
        if isinstance(node.op, ast.And):
            result = True
            for value in node.values:
                result = self.visit(value)
                if not result:
                    return result
            return result
        result = False
        for value in node.values:
            result = self.visit(value)
            if result:
                return result
        return result

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        sequences = (str, list, tuple)
        if isinstance(node.op, ast.Mult) and (isinstance(left, sequences) or isinstance(right, sequences)):
            raise ExpressionError(_l("表达式中不允许重复序列"), unsafe=True)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            _check_format(left)
        try:
            return _check_size(_BIN_OPS[type(node.op)](left, right))
        except (TypeError, ZeroDivisionError, OverflowError) as exc:
            raise ExpressionError(_l("运算错误：%(error)s", error=str(exc))) from None

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        return _UNARY_OPS[type(node.op)](self.visit(node.operand))

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comparator)
            try:
                if not _CMP_OPS[type(op)](left, right):
                    return False
            except TypeError as exc:
                raise ExpressionError(_l("比较错误：%(error)s", error=str(exc))) from None
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        container = self.visit(node.value)
        key = self.visit(node.slice)
        try:
            return container[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise ExpressionError(_l("取值失败：%(error)s", error=repr(exc))) from None

    def visit_Slice(self, node: ast.Slice) -> slice:
        return slice(*(self.visit(p) if p is not None else None for p in (node.lower, node.upper, node.step)))

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        target = self.visit(node.value)
        if not isinstance(target, (dict, str)):
            raise ExpressionError(_l("不允许访问属性 %(name)s", name=node.attr))
        return getattr(target, node.attr)

    def visit_Call(self, node: ast.Call) -> Any:
        func = self.visit(node.func)
        args = [self.visit(a) for a in node.args]
        kwargs: dict[str, Any] = {}
        for k in node.keywords:
            if k.arg is None:  # f(**mapping)
                raise ExpressionError("函数调用失败：不允许展开参数（**）")
            kwargs[k.arg] = self.visit(k.value)
        try:
            return _check_size(func(*args, **kwargs))
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(_l("函数调用失败：%(error)s", error=str(exc))) from None

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(e) for e in node.elts]

    def visit_Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.visit(e) for e in node.elts)

    def visit_Dict(self, node: ast.Dict) -> dict[Any, Any]:
        result = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # {**mapping}
                raise ExpressionError("表达式中不允许展开字典（**）")
            result[self.visit(key)] = self.visit(value)
        return result

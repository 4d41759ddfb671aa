"""Constant LaTeX expressions evaluated in the fast path, so that math-verify is not needed.

Most answers of MATH-style benchmarks are constants: ``\\frac{\\sqrt{21}}{5}``, ``288\\pi``,
``2\\sqrt{3}``, ``(6,31,-1)``. Two of them are decided here, in microseconds: clearly different
values (relative difference above ``MISMATCH_REL``) are a mismatch, values equal to rounding
(``MATCH_REL``, and neither side written with a decimal point, whose rounding math-verify
judges) a match; anything in between, any symbol other than ``\\pi``, and anything this small
grammar does not know goes to math-verify. Nothing is ``eval``ed: a recursive-descent parser
over a token list, bounded in length, depth and exponent size.

Grammar (on ``canonical_answer`` forms, no spaces): sums and differences of products
(``*``, ``\\cdot``, ``\\times``, ``/``, or side by side) of signed powers (``^`` with a braced
or single-token exponent) of numbers, ``\\pi``, ``\\frac{a}{b}`` (also ``\\frac12``),
``\\sqrt{x}``, ``\\sqrt[n]{x}`` and parenthesised or braced expressions.
"""

from __future__ import annotations

import math
import re

MISMATCH_REL = 1e-3
MATCH_REL = 1e-12
_MAX_CHARS = 200
_MAX_DEPTH = 30
_MAX_EXPONENT = 1_000.0

_TOKEN_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+|\\[A-Za-z]+|[A-Za-z]|[-+*/^(){}\[\],]")
# Single-letter variables, each given generic values; "e" (Euler's number to math-verify) and
# two letters side by side ("ab", "sin") are left to math-verify.
_POINTS = (
    {c: 0.5772156649 + 0.0731 * k for k, c in enumerate("abcdfghijklmnopqrstuvwxyz")},
    {c: 1.3247179572 - 0.0419 * k for k, c in enumerate("abcdfghijklmnopqrstuvwxyz")},
    {
        c: 0.8019377358 + 0.0577 * (k % 7) - 0.031 * k
        for k, c in enumerate("abcdfghijklmnopqrstuvwxyz")
    },
)
_PRODUCT_OPS = {"*", "\\cdot", "\\times"}
_ATOM_STARTS = {"(", "{", "\\pi", "\\frac", "\\sqrt"}


class _NotConstant(Exception):
    """The text is not a constant this grammar evaluates."""


def _tokens(s: str) -> list[str]:
    out, pos = [], 0
    for m in _TOKEN_RE.finditer(s):
        if m.start() != pos:
            raise _NotConstant
        out.append(m.group(0))
        pos = m.end()
    if pos != len(s):
        raise _NotConstant
    return out


class _Parser:
    def __init__(self, tokens: list[str], point: dict[str, float] | None = None) -> None:
        self.t, self.i, self.depth = tokens, 0, 0
        self.point = point or {}

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _NotConstant
        self.i += 1
        return tok

    def expr(self) -> float:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _NotConstant
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        self.depth -= 1
        return value

    def term(self) -> float:
        value = self.signed()
        while True:
            tok = self.peek()
            if tok in _PRODUCT_OPS:
                self.take()
                value *= self.signed()
            elif tok == "/":
                self.take()
                value = _divide(value, self.signed())
            elif tok is not None and (tok in _ATOM_STARTS or tok[0].isalnum()):
                if tok == "\\frac" and self.t[self.i - 1][0].isdigit():
                    raise _NotConstant  # 1\frac{4}{5} is a mixed number: math-verify reads it
                value *= self.power()  # side by side: 2\sqrt{3}, 288\pi
            else:
                return value

    def signed(self) -> float:
        if self.peek() in ("-", "+"):
            return -self.signed() if self.take() == "-" else self.signed()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.braced() if self.peek() == "{" else self.atom()
        if abs(exponent) > _MAX_EXPONENT or (base == 0 and exponent <= 0):
            raise _NotConstant
        try:
            value: float | complex = base**exponent
        except (OverflowError, ZeroDivisionError) as e:
            raise _NotConstant from e
        if isinstance(value, complex):
            raise _NotConstant  # (-8)^{1/3}: math-verify decides
        return value

    def braced(self) -> float:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value

    def atom(self) -> float:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            return float(tok)
        if tok == "\\pi":
            return math.pi
        if tok in self.point:
            return self.point[tok]
        if tok in ("(", "{"):
            value = self.expr()
            self.take(")" if tok == "(" else "}")
            return value
        if tok == "\\frac":
            return _divide(self.frac_part(), self.frac_part())
        if tok == "\\sqrt":
            return self.root()
        raise _NotConstant

    def frac_part(self) -> float:
        if self.peek() == "{":
            return self.braced()
        tok = self.peek()  # \frac12 / \frac 34: one digit each
        if tok is None or not tok.isdigit() or len(tok) > 2:
            raise _NotConstant
        if len(tok) == 2:  # the numerator's digit; the denominator's is left in the token
            self.t[self.i] = tok[1]
            return float(tok[0])
        self.i += 1
        return float(tok)

    def root(self) -> float:
        index = 2.0
        if self.peek() == "[":
            self.take("[")
            index = self.expr()
            self.take("]")
        radicand = self.braced() if self.peek() == "{" else self.atom()
        if radicand < 0 or index <= 0 or abs(index) > _MAX_EXPONENT:
            raise _NotConstant
        root: float = radicand ** (1.0 / index)  # real: radicand >= 0
        return root


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise _NotConstant
    return a / b


def _variables(tokens: list[str]) -> set[str] | None:
    """The single-letter variables of a token list; None if one is "e"/"E" or two letters
    stand side by side (a word or a function name: math-verify reads those)."""
    names = set()
    for k, tok in enumerate(tokens):
        if len(tok) == 1 and tok.isalpha():
            if tok in "eE" or (k and len(tokens[k - 1]) == 1 and tokens[k - 1].isalpha()):
                return None
            names.add(tok)
    return names


def values(canon: str) -> tuple[list[float], bool] | None:
    """(the expression's value at each of the generic points, whether it has variables), or
    None when the grammar does not read it. A constant has the same value at every point."""
    if not canon or len(canon) > _MAX_CHARS:
        return None
    try:
        tokens = _tokens(canon)
        names = _variables(tokens)
        if names is None:
            return None
        out = []
        for point in _POINTS if names else _POINTS[:1]:
            parser = _Parser(list(tokens), point)  # a fresh list: \\frac34 is split in place
            value = parser.expr()
            if parser.peek() is not None or not math.isfinite(value):
                return None
            out.append(value)
    except (_NotConstant, RecursionError, ValueError, OverflowError, KeyError):
        return None
    return out * (1 if names else len(_POINTS)), bool(names)


def constant_value(canon: str) -> float | None:
    """The value of a constant expression in canonical form, None if it is not one."""
    got = values(canon)
    return None if got is None or got[1] else got[0][0]


def _split_top(canon: str) -> tuple[str, list[str], str] | None:
    """(opening, elements, closing) of a bracketed list ``(a,b]`` of two or more elements."""
    if len(canon) < 5 or canon[0] not in "([" or canon[-1] not in ")]":
        return None
    parts, depth, start = [], 0, 1
    for i, c in enumerate(canon[1:-1], start=1):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return None  # "(1)+(2)": the outer brackets do not enclose everything
        elif c == "," and depth == 0:
            parts.append(canon[start:i])
            start = i + 1
    parts.append(canon[start:-1])
    return (canon[0], parts, canon[-1]) if len(parts) >= 2 and depth == 0 else None


def _compare_values(a: float, b: float, exact: bool) -> bool | None:
    scale = max(1.0, abs(a), abs(b))
    if abs(a - b) > MISMATCH_REL * scale:
        return False
    if exact and abs(a - b) <= MATCH_REL * scale:
        return True
    return None


def _expressions_equal(ca: str, cb: str) -> bool | None:
    """Constants compared by value; expressions in single-letter variables compared at generic
    points: a difference at any point is a mismatch (sound), equality everywhere a match only
    for constants (an identity of expressions is left to math-verify)."""
    got_a, got_b = values(ca), values(cb)
    if got_a is None or got_b is None:
        return None
    exact = "." not in ca + cb
    verdicts = {_compare_values(x, y, exact) for x, y in zip(got_a[0], got_b[0], strict=True)}
    if False in verdicts:
        return False
    if got_a[1] or got_b[1]:
        return None
    return verdicts.pop()


def _split_bare(canon: str) -> tuple[str, list[str], str] | None:
    """A list without brackets ("1,-2", "3,5,7") as ("", elements, "")."""
    if "," not in canon or canon[0] in "([{\\" or canon[-1] in ")]}":
        return None
    split = _split_top("(" + canon + ")")
    return None if split is None else ("", split[1], "")


def _distinct_constants(items: list[str]) -> int:
    """How many clearly different constants the items hold (0 if one is not a constant)."""
    found: list[float] = []
    for item in items:
        v = constant_value(item)
        if v is None:
            return 0
        if all(_compare_values(v, w, False) is False for w in found):
            found.append(v)
    return len(found)


def _list_against_scalar(items: tuple[str, list[str], str], scalar: str) -> bool | None:
    """A list against a number or an expression: never equal, when math-verify would agree."""
    if values(scalar) is None:
        return None
    # (a bare list is a set to math-verify: "1,1" is {1}, so it needs two distinct items)
    return False if items[0] or _distinct_constants(items[1]) >= 2 else None


def numeric_equal(ca: str, cb: str) -> bool | None:
    """Two canonical answers as constants, expressions, or lists of them (bracketed, or bare
    "1,-2"): True / False when decided here, None for math-verify."""
    la, lb = _split_top(ca) or _split_bare(ca), _split_top(cb) or _split_bare(cb)
    if la is None:
        return _expressions_equal(ca, cb) if lb is None else _list_against_scalar(lb, ca)
    if lb is None:
        return _list_against_scalar(la, cb)
    if not la[0] or not lb[0]:
        return None  # a bare list is an unordered set: math-verify compares sets
    if la[0] != lb[0] or la[2] != lb[2] or len(la[1]) != len(lb[1]):
        return None  # (1,2) against [1,2], or different lengths: math-verify decides
    verdicts = [numeric_equal(x, y) for x, y in zip(la[1], lb[1], strict=True)]
    if False in verdicts:
        return False
    return True if all(v is True for v in verdicts) else None


_UNIT_COMMANDS = ("\\text{", "\\mbox{")
_UNIT_POWERS = ("", "^2", "^3", "^{2}", "^{3}")


def strip_unit(canon: str) -> str | None:
    """The number of a quantity with a unit in words ("864\\mbox{inches}^2" -> "864",
    "5.4\\text{cents}" -> "5.4"), None when the answer has no such unit."""
    for power in _UNIT_POWERS:
        if not canon.endswith("}" + power):
            continue
        end = len(canon) - len(power) - 1
        start = max(canon.rfind(cmd, 0, end) for cmd in _UNIT_COMMANDS)
        word = canon[start + 6 : end] if start > 0 else ""
        if word.isalpha():
            return canon[:start]
    return None


def plus_minus_values(canon: str) -> list[float] | None:
    """The two values of a constant ``a \\pm b`` ("1\\pm\\sqrt{19}"), else None."""
    if canon.count("\\pm") != 1:
        return None
    left, right = canon.split("\\pm")
    a, b = constant_value(left or "0"), constant_value(right)
    return None if a is None or b is None else [a + b, a - b]


def differ_as_quantities(ca: str, cb: str) -> bool:
    """True when a quantity with a unit, or an ``a \\pm b`` pair of values, is clearly not the
    other answer (a mismatch decided here; their matches are left to math-verify)."""
    ua, ub = strip_unit(ca), strip_unit(cb)
    if (ua is not None or ub is not None) and numeric_equal(ua or ca, ub or cb) is False:
        return True
    for pm, other in ((plus_minus_values(ca), cb), (plus_minus_values(cb), ca)):
        if pm is not None and "\\pm" not in other and _split_top(other) is None:
            value = constant_value(other)
            if value is not None and _compare_values(pm[0], pm[1], False) is False:
                return True  # two different values are never one number
    return False

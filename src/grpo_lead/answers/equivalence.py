"""Normal forms and the fast path: answers compared without math-verify, in microseconds.

``canonical_answer`` strips what never changes an answer's value (spaces, ``$``, ``\\left``,
thin spaces, ``\\dfrac``, degree signs, a ``\\text{}`` wrapper, thousands separators, leading
and trailing zeros, a leading ``x=``); ``fast_equal`` decides plain rationals exactly and leaves
everything else (None) to math-verify.
"""

from __future__ import annotations

import re
from fractions import Fraction

from grpo_lead.answers.numeric import MISMATCH_REL, differ_as_quantities, numeric_equal, values

_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_TEXT_WRAP_RE = re.compile(r"\\(?:text|textbf|textrm|textit|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")


def unwrap_text(s: str) -> str:
    """``\\text{(C)}`` -> ``(C)`` (three levels at most)."""
    for _ in range(3):
        new = _TEXT_WRAP_RE.sub(r"\1", s)
        if new == s:
            break
        s = new
    return s


def clean_answer(ans: str) -> str:
    """Strip spaces, surrounding markdown/math delimiters and a closing period."""
    ans = ans.strip()
    for _ in range(3):
        before = ans
        ans = ans.strip().strip("*").strip()
        for opener, closer in _MATH_OPENERS:
            if ans.startswith(opener) and ans.endswith(closer) and len(ans) >= 2 * len(opener):
                ans = ans[len(opener) : len(ans) - len(closer)]
        end = len(ans)  # drop trailing " .,;:" ("\$18." / "5," / "x = 3;"), not a LaTeX "\\,"
        while end and ans[end - 1] in " \t.,;:":
            if ans[end - 1] in ",;:" and end > 1 and ans[end - 2] == "\\":
                break
            end -= 1
        ans = ans[:end]
        if ans == before:
            break
    return ans.strip()


_SPACING_RE = re.compile(r"\\[,;:! ]|\\q?quad(?![A-Za-z])|\\displaystyle|~")
_LEFT_RIGHT_RE = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![A-Za-z])")
_DEGREE_RE = re.compile(r"\^\s*(?:\{\s*)?\\circ\s*\}?|°|\\degree(?![A-Za-z])")
_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_LEADING_VAR_RE = re.compile(r"[A-Za-z]=([^=<>]+)")
_DECIMAL_RE = re.compile(r"([-+]?)(\d*)(?:\.(\d*))?")


def _canonical_number(s: str) -> str:
    m = _DECIMAL_RE.fullmatch(s)
    if m is None or not (m.group(2) or m.group(3)):
        return s
    sign, whole, frac = m.group(1), m.group(2).lstrip("0") or "0", (m.group(3) or "").rstrip("0")
    out = f"{whole}.{frac}" if frac else whole
    return out if sign != "-" or out == "0" else "-" + out


def canonical_answer(answer: str) -> str:
    """A cheap normal form of an extracted answer: equal forms are equivalent answers.

    Not a full equivalence (that is math-verify's job): use it as a fast path and as a grouping
    key before ``answers_equivalent``.

    >>> canonical_answer(r"\\$1{,}000.50") == canonical_answer("1000.5")
    True
    >>> canonical_answer(r"x = \\dfrac{1}{2}")
    '\\\\frac{1}{2}'
    """
    s = clean_answer(answer)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _LEFT_RIGHT_RE.sub("", s)
    s = _SPACING_RE.sub(" ", s)
    s = _DEGREE_RE.sub("", s)
    s = s.replace("{,}", ",").replace("\\$", "").replace("$", "")
    m = _TEXT_WRAP_RE.fullmatch(s.strip())
    if m is not None:
        s = m.group(1)
    s = re.sub(r"\s+", "", s).rstrip(".")
    m = _LEADING_VAR_RE.fullmatch(s)
    if m is not None:
        s = m.group(1)
    if _THOUSANDS_RE.fullmatch(s):
        s = s.replace(",", "")
    return _canonical_number(s)


_FRAC_RE = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}|(-?)\\frac(\d)(\d)|(-?\d+)/(\d+)")
_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


_REPEATING_RE = re.compile(r"(-?)(\d*)\.(\d*)\\overline\{(\d+)\}")


def _as_rational(canon: str) -> tuple[Fraction, str] | None:
    """(value, kind) of a canonical integer / decimal / fraction / repeating decimal
    (``0.\\overline{3}``); kind is 'int', 'dec' or 'frac' (exact, may not terminate)."""
    if len(canon) > 40:
        return None  # keep clear of Python's int-digit limit; math-verify decides
    if _PLAIN_NUMBER_RE.fullmatch(canon):
        return Fraction(canon), ("dec" if "." in canon else "int")
    m = _REPEATING_RE.fullmatch(canon)
    if m is not None:
        sign, whole, fixed, rep = m.groups()
        value = Fraction(int(whole or "0")) + Fraction(int(fixed or "0"), 10 ** len(fixed))
        value += Fraction(int(rep), 10 ** len(fixed) * (10 ** len(rep) - 1))
        return (-value if sign else value), "frac"
    m = _FRAC_RE.fullmatch(canon)
    if m is None:
        return None
    if m.group(2) is not None:
        sign, num, den = m.group(1), m.group(2), m.group(3)
    elif m.group(5) is not None:
        sign, num, den = m.group(4), m.group(5), m.group(6)
    else:
        sign, num, den = "", m.group(7), m.group(8)
    if int(den) == 0:
        return None
    value = Fraction(int(num), int(den))
    return (-value if sign == "-" else value), "frac"


_PERCENT_RE = re.compile(r"(.*?)\\?%")
# a numeral with its base as a subscript: 52_8, 52_{8}, {1011}_2, A3_{16}
_BASE_RE = re.compile(r"\{?([0-9A-Z]+)\}?_\{?(\d{1,2})\}?")
_NUMERAL_RE = re.compile(r"[0-9A-Z]+")


def _base_numeral(canon: str) -> tuple[str, int] | None:
    """(digits, base) of a numeral written with its base (``52_8``), else None."""
    m = _BASE_RE.fullmatch(canon)
    if m is None:
        return None
    digits, base = m.group(1).lstrip("0") or "0", int(m.group(2))
    if not 2 <= base <= 36:
        return None
    try:
        int(digits, base)  # every digit valid in the base ("9" is no octal digit)
    except ValueError:
        return None
    return digits, base


def _base_equal(ca: str, cb: str) -> bool | None:
    """Numerals with a base subscript: the same digits in the same base. math-verify drops the
    subscript (so ``52_9`` would pass for ``52_8``); here a different base is a mismatch, and a
    numeral without a subscript matches when its digits are the same (the base left implicit)."""
    na, nb = _base_numeral(ca), _base_numeral(cb)
    if na is None:
        return None if nb is None else _numeral_against(nb, ca)
    return na == nb if nb is not None else _numeral_against(na, cb)


def _numeral_against(numeral: tuple[str, int], other: str) -> bool | None:
    """A numeral with a base subscript against an answer without one."""
    plain = other.lstrip("0") or "0"
    if not _NUMERAL_RE.fullmatch(plain):  # an expression ("5\\cdot8+2", "2k"): never the numeral
        return False if values(other) is not None else None
    return plain == numeral[0]


_WORD_RE = re.compile(r"[A-Za-z][A-Za-z ]*")


def _text_word(answer: str) -> str | None:
    """The word of a ``\\text{...}`` answer ("\\text{Evelyn}" -> "evelyn"), else None."""
    m = _TEXT_WRAP_RE.fullmatch(clean_answer(answer).replace("$", "").strip())
    if m is None or not _WORD_RE.fullmatch(m.group(1).strip()):
        return None
    return " ".join(m.group(1).split()).casefold()


def _by_kind(a: str, b: str, ca: str, cb: str) -> bool | None:
    """Constants and expressions (``numeric``); then answers of different kinds: a word in
    ``\\text{}`` or a matrix is never a number or an expression; two words are compared as
    math-verify compares them (case aside)."""
    verdict = numeric_equal(ca, cb)
    if verdict is not None:
        return verdict
    wa, wb = _text_word(a), _text_word(b)
    if wa is not None and wb is not None:
        return wa == wb
    other_a = wa is not None or ca.startswith("\\begin{")
    other_b = wb is not None or cb.startswith("\\begin{")
    if other_a != other_b and values(cb if other_a else ca) is not None:
        return False
    return False if differ_as_quantities(ca, cb) else None


_RELATION_RE = re.compile(r"[<>]|\\(?:[lg]eq?|neq?|approx|sim|equiv)(?![A-Za-z])")


def false_equation(answer: str) -> bool | None:
    """Whether an answer that is a chain of equalities between constants asserts a false one:
    ``1+4+3=13`` -> True (1+4+3 is 8), ``9-4=5`` -> False, and None for anything else (no
    "=", a side with a variable such as ``x=5`` or ``y=2x+1``, a side the grammar cannot
    read). math-verify reads such a box by its right side, so ``\\boxed{1+4+3=13}`` counted
    as 13; the strict checker counts a false equation as a wrong answer (docs/answer-checker.md).
    Sides agree within ``MISMATCH_REL`` (``\\frac{1}{3}=0.333`` is not false)."""
    canon = canonical_answer(answer)
    if "=" not in canon or _RELATION_RE.search(canon):
        return None
    sides = canon.split("=")
    if len(sides) < 2 or not all(sides):
        return None
    points: list[float] = []
    for side in sides:
        found = values(side)
        if found is None or found[1]:
            return None
        points.append(found[0][0])
    scale = max(1.0, *(abs(p) for p in points))
    return bool(max(points) - min(points) > MISMATCH_REL * scale)


def fast_equal(a: str, b: str) -> bool | None:
    """True / False when the fast path can decide, None when math-verify must.

    A percentage p% equals both p and p/100 (GSM8K references drop the sign; models write
    0.25 for 25%), as in math-verify.
    """
    ca, cb = canonical_answer(a), canonical_answer(b)
    if ca and ca == cb:
        return True
    base = _base_equal(ca, cb)
    if base is not None:
        return base
    pa, pb = _PERCENT_RE.fullmatch(ca), _PERCENT_RE.fullmatch(cb)
    ra = _as_rational(pa.group(1) if pa else ca)
    rb = _as_rational(pb.group(1) if pb else cb)
    if ra is None or rb is None:
        return None if pa or pb else _by_kind(a, b, ca, cb)
    va, vb = {ra[0]}, {rb[0]}
    if pa is not None and pb is None:
        va.add(ra[0] / 100)
    if pb is not None and pa is None:
        vb.add(rb[0] / 100)
    if va & vb:
        return True
    if {ra[1], rb[1]} == {"frac", "dec"}:  # 1/3 vs 0.333333: math-verify's rounding decides
        scale = max(Fraction(1), abs(ra[0]), abs(rb[0]))
        return False if abs(ra[0] - rb[0]) > MISMATCH_REL * scale else None
    return False

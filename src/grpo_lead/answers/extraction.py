"""Extraction: the final answer of a completion, and the answer part of a reference.

See the package docstring for the order (region, last box, markers) and why.
"""

from __future__ import annotations

import re

from grpo_lead.answers.equivalence import (
    _MATH_OPENERS,
    canonical_answer,
    clean_answer,
    false_equation,
)
from grpo_lead.answers.verdict import MAX_ANSWER_CHARS, MAX_INPUT_CHARS
from grpo_lead.reasoning import answer_region

BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# What may sit between two boxes that form one answer ("\boxed{6} or \boxed{7}", "$\boxed{1}$,
# $\boxed{2}$"): spaces, math delimiters, thin spaces, commas, "or"/"and" (also in \text{}).
_BOX_SEP_RE = re.compile(
    r"(?:\s|\$|\\[(),;:!]|\\q?quad|[,;&]|\\text\s*\{\s*(?:(?:or|and|,)\s*)?\}|\bor\b|\band\b)*"
)
_MAX_BOX_SEP_CHARS = 40
_BOX_TOKEN_RE = re.compile(r"[^\s${}]+")

# Every pattern here is linear in its input: a run of spaces is never split between two
# quantifiers (`[ \t]*:?[ \t]*` backtracks quadratically on a long run that does not end in
# the expected character; `tests/test_answers.py` runs each pattern on 1 MB of such text).
_MARKER_RE = re.compile(
    r"(?:"
    r"####[ \t]*(?![ \t])(?=[-+]?\\?\$?[ \t]*\.?\d)"  # GSM8K: #### 1,234
    r"|\*\*[ \t]*(?:final[ \t]+)?answer[ \t]*(?::[ \t]*)?\*\*[ \t]*:?"  # **Answer:** X
    r"|\b(?:final[ \t]+)?answer[ \t]*:"  # Answer: X / Final answer: X
    r"|\banswer[ \t]+is\b[ \t]*:?"  # the (final) answer is X (not "isn't")
    r"|\bfinal[ \t]+answer[ \t]*(?:\*+[ \t]*)?(?=\n)"  # "### Final Answer" heading, X next line
    r")",
    re.IGNORECASE,
)
# where the answer after a marker ends: a full stop, a line end, ", which ..." / " because ..."
_SENTENCE_END_RE = re.compile(
    r"\.(?=\s|$)|\n|,\s+(?!(?:and|or)\b)(?=[A-Za-z]{2,}\b)|(?<!\s)\s+(?:because|since|which)\b"
)
# a computation: two numbers joined by an operator, in symbols or in words ("9 minus 4")
_ARITHMETIC_WORDS = r"\b(?:plus|minus|times|divided[ \t]+by|multiplied[ \t]+by)\b"
_ARITHMETIC_WORD_RE = re.compile(_ARITHMETIC_WORDS, re.IGNORECASE)
_COMPUTATION_RE = re.compile(
    r"\d[ \t)]*(?:[-+*/\u00d7\u00f7]|\\times|\\cdot|\\div|" + _ARITHMETIC_WORDS + r")[ \t(]*-?\d",
    re.IGNORECASE,
)
# what states a computation's result: "is", "equals", "=", "gives (us)", "makes", "so", "or"
_RESULT_WORD_RE = re.compile(
    r"=|\b(?:is|equals|equal[ \t]+to|gives(?:[ \t]+us)?|makes|so|or|yields|get|gets)\b",
    re.IGNORECASE,
)
_FULL_STOP_RE = re.compile(r"\.(?=\s|$)")
_NUMBER_THEN_WORDS_RE = re.compile(
    r"(\\?\$?[ \t]*[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[ \t]*\\?%)?)[ \t]+[A-Za-z][A-Za-z \t]*"
)
# a word of prose: two letters or more, not the name of a LaTeX command (\\frac, \\text)
PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
# words that join expressions rather than make a sentence ("1, 2, and 3", "x = 5 or x = -5")
_CONNECTIVES = frozenset({"and", "or"})
# words a sentence cannot end on: an answer that ends on one is a fragment ("The answer is: the",
# "Answer: we have", a completion cut off after its marker), not an answer
_DANGLING = frozenset(
    "a an the of to in on at by for with from into as is are was were be been being so "  # noqa: SIM905
    "then thus hence therefore we i you it they have has had do does that this these those "
    "and or but if let us our its their can will would should must need find get compute "
    "calculate which what how when where since because equal equals gives give".split()
)
_MAX_BARE_CHARS = 80  # a completion this short, on one line, may be just its answer
_MAX_MARKER_ANSWER_CHARS = 2 * MAX_ANSWER_CHARS  # text read after a marker
_MAX_MARKERS_TRIED = 20  # the last markers whose answer may be empty before giving up


def _cut(text: str) -> str:
    return text[-MAX_INPUT_CHARS:] if len(text) > MAX_INPUT_CHARS else text


def search_region(text: str) -> tuple[str, bool]:
    """(text to search, boxed_only): ``reasoning.answer_region`` cut to its last
    MAX_INPUT_CHARS characters. The tags are looked for in the whole text: a long reasoning cut
    off mid-way has its <think> far before the last characters."""
    region, boxed_only = answer_region(text)
    return _cut(region), boxed_only


def _brace_end(text: str, open_pos: int, limit: int) -> int:
    """Index just past the brace matching text[open_pos] == '{' (before limit), or -1."""
    depth = 0
    i = open_pos
    while i < limit:
        c = text[i]
        if c == "\\":
            i += 2  # an escaped character (\{, \}) never opens or closes a group
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _box_at(text: str, end_of_cmd: int, limit: int) -> tuple[str, int] | None:
    """(content, end) of the box whose command ends at end_of_cmd, None if unterminated."""
    i = end_of_cmd
    while i < limit and text[i] in " \t":
        i += 1
    if i < limit and text[i] == "{":
        end = _brace_end(text, i, limit)
        return None if end < 0 else (text[i + 1 : end - 1], end)
    m = _BOX_TOKEN_RE.match(text, i, limit)  # "\boxed 5": one token
    if m is None or i == end_of_cmd:
        return None
    return m.group(0), m.end()


def _last_boxed_parts(region: str) -> list[str] | None:
    """The answers of the last group of adjacent boxes in region (see module docstring).

    None: the last box is unterminated (or there is none); []: its content is empty.
    Repeated answers in a group are kept once ("\\boxed{7} and \\boxed{7}" -> ["7"]).
    """
    starts = [(m.start(), m.end()) for m in BOX_RE.finditer(region)]
    contents: list[str] = []
    limit = len(region)
    next_start = None
    for start, cmd_end in reversed(starts):
        box = _box_at(region, cmd_end, limit)
        if box is None:
            break  # unterminated (or, for an earlier box, one that encloses the later one)
        content, end = box
        if next_start is not None:
            sep = region[end:next_start]
            if len(sep) > _MAX_BOX_SEP_CHARS or not _BOX_SEP_RE.fullmatch(sep):
                break
        contents.append(content)
        next_start = start
        limit = start
    if not contents:
        return None
    parts: list[str] = []
    seen: set[str] = set()
    for c in reversed(contents):
        c = clean_answer(_strip_inner_box(c))  # "\\boxed{\\boxed{5}}" -> "5"
        key = canonical_answer(c) if len(c) <= MAX_ANSWER_CHARS else c
        if c and key not in seen:
            seen.add(key)
            parts.append(c)
    return parts


def _strip_inner_box(content: str) -> str:
    content = content.strip()
    m = BOX_RE.match(content)
    if m is not None:
        box = _box_at(content, m.end(), len(content))
        if box is not None and box[1] == len(content):
            return box[0]
    return content


def _after_marker(region: str, pos: int) -> str:
    """The answer that follows a marker ending at pos (empty string if none)."""
    window = region[pos : pos + _MAX_MARKER_ANSWER_CHARS]  # bounds every regex below
    line_end = window.find("\n")
    rest = window[: line_end if line_end >= 0 else len(window)]
    rest = rest.lstrip(" \t*:}")
    if not rest.strip() and line_end >= 0:
        # "Answer:\n$$5$$" -> the next non-empty line
        for line in window[line_end + 1 :].split("\n", 3)[:3]:
            if line.strip():
                rest = line.strip()
                break
    rest = rest.strip()
    for opener, closer in _MATH_OPENERS:
        if rest.startswith(opener):
            close = rest.find(closer, len(opener))
            if close > 0:
                return clean_answer(rest[len(opener) : close])
            break
    end = _SENTENCE_END_RE.search(rest)
    head = clean_answer(rest[: end.start()] if end is not None else rest)
    if _COMPUTATION_RE.search(head) and not ("=" in head and not _has_prose(head)):
        # "9 minus 4, which is 5.": a computation; the answer is its stated result (an
        # equation in symbols, "9 - 4 = 5", stays one: the checker judges it whole)
        result = _stated_result(rest, head)
        if result is not None:
            return result
    if end is not None:
        rest = rest[: end.start()]
    rest = clean_answer(rest)
    if _has_prose(rest):  # "The largest $n$ is 34." / "5 times 3 is 15" -> the final expression
        rest = _final_expression(rest) or rest
    m = _NUMBER_THEN_WORDS_RE.fullmatch(rest)
    if m is not None:  # "18 dollars" -> "18"
        rest = m.group(1).strip()
    return rest


def _stated_result(sentence: str, head: str) -> str | None:
    """The value a sentence that opens with a computation (``head``) ends on: what follows its
    last "is", "equals", "=", "gives", "so", ... ("9 minus 4, which is 5 apples." -> "5"); ""
    when a computation in words states none ("9 minus 4." -> no answer, not its last number);
    None when a computation in symbols states none ("9 - 4", read as an expression). A
    computation in symbols that the result contradicts ("9 - 4, which is 6") gives the false
    equation ("9 - 4 = 6"), which the checker counts wrong (`false_equation`)."""
    end = _FULL_STOP_RE.search(sentence)
    sentence = sentence[: end.start()] if end is not None else sentence
    last = max(_RESULT_WORD_RE.finditer(sentence), key=lambda m: m.start(), default=None)
    if last is not None:
        value = clean_answer(sentence[last.end() :])
        m = _NUMBER_THEN_WORDS_RE.fullmatch(value)
        value = m.group(1).strip() if m is not None else value
        if value and not _has_prose(value):
            return f"{head} = {value}" if false_equation(f"{head}={value}") else value
    return "" if _ARITHMETIC_WORD_RE.search(sentence) else None


def _has_prose(text: str) -> bool:
    """Whether text holds a word of prose other than "and" / "or" (which join a list)."""
    return any(w.lower() not in _CONNECTIVES for w in PROSE_WORD_RE.findall(text))


def _marker_answer(region: str, pos: int) -> str:
    """`_after_marker`, with what is no answer made empty: a box there is one the last-box rule
    found empty ("The answer is \\boxed{}." -> ""), and a fragment of prose that ends on a
    word no sentence ends on ("The answer is: the", "Answer: we have") is a cut-off sentence."""
    ans = _after_marker(region, pos)
    if BOX_RE.search(ans):
        parts = _last_boxed_parts(ans)
        return ", ".join(parts) if parts else ""
    words = ans.split()
    if words and all(w.isalpha() for w in words) and words[-1].lower() in _DANGLING:
        return ""
    return ans


def _final_expression(sentence: str) -> str:
    """The expression that ends a sentence of prose: its last math span ``$...$`` / ``\\(...\\)``,
    else its trailing words that hold no prose ("... is 10,455" -> "10,455"); "" if none."""
    for opener, closer in (("$", "$"), ("\\(", "\\)")):
        if sentence.endswith(closer) and len(sentence) > len(closer):
            start = sentence.rfind(opener, 0, len(sentence) - len(closer))
            if start >= 0:
                return clean_answer(sentence[start + len(opener) : len(sentence) - len(closer)])
    tokens = sentence.split()
    keep = len(tokens)
    while keep and not PROSE_WORD_RE.search(tokens[keep - 1]):
        keep -= 1
    return clean_answer(" ".join(tokens[keep:]))


def _bare_answer(region: str) -> str | None:
    """A completion that is only an answer ("-5", "$\\frac{10}{9}$", "18 dollars"): one short
    line with at most one word of prose. Anything longer is reasoning, and reasoning without a
    box or an answer marker states no answer (the paper's protocol)."""
    s = region.strip()
    if not s or len(s) > _MAX_BARE_CHARS or "\n" in s or BOX_RE.search(s):
        return None  # (an empty box echoed from the instruction is no answer either)
    s = clean_answer(s)
    if not any(c.isalnum() for c in s) or len(PROSE_WORD_RE.findall(s)) > 1:
        return None
    m = _NUMBER_THEN_WORDS_RE.fullmatch(s)
    return m.group(1).strip() if m is not None else s


def _last_marker_answer(region: str) -> str | None:
    ends = [m.end() for m in _MARKER_RE.finditer(region)]
    for pos in reversed(ends[-_MAX_MARKERS_TRIED:]):
        ans = _marker_answer(region, pos)
        if ans:
            return ans
    return None


def _boxed_or_marker(text: str) -> tuple[list[str] | None, str | None]:
    """(boxed parts, marker answer) of a completion; at most one of them is set."""
    region, boxed_only = search_region(text)
    if BOX_RE.search(region):
        parts = _last_boxed_parts(region)
        if parts is None:
            return None, None  # the last box is cut off: no answer, nothing earlier instead
        if parts or boxed_only:
            return parts, None
        # an empty box (the instruction's "\\boxed{}" echoed): look for a marker instead
    if boxed_only:
        return None, None
    return None, _last_marker_answer(region) or _bare_answer(region)


def extract_answer(text: str) -> str | None:
    """The final answer of a completion, or None when it gives none (see module docstring).

    >>> extract_answer(r"so the area is $\\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> extract_answer("<think>2+2=4</think>The answer is 4.")
    '4'
    >>> extract_answer(r"<think>so \\boxed{3}. But wait, let me re-check")  # cut off: box only
    '3'
    >>> extract_answer(r"It is \\boxed{6} or \\boxed{7}.")  # a hedge, judged as a set
    '6, 7'
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_answer expects a str, got {type(text).__name__}")
    parts, marker = _boxed_or_marker(text)
    if parts:
        return ", ".join(parts)
    return marker


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


_REF_NUMBER_RE = re.compile(r"-?(?:[\d,]*\.\d+|[\d,]*\d)")  # "1,234" / "-0.5" / ".5"


def normalize_reference(reference: str) -> str:
    """The answer part of a reference: GSM8K ``...#### 1,234`` -> ``1234``; a solution with
    ``\\boxed{5}`` -> ``5``; anything else stripped and otherwise unchanged.

    >>> normalize_reference("She pays 2 * 9 = <<2*9=18>>18 dollars.\\n#### 1,018")
    '1018'
    >>> normalize_reference(r"so it is $\\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> normalize_reference(r"\\text{(C)}")
    '\\\\text{(C)}'
    """
    if not isinstance(reference, str):
        raise TypeError(f"a reference must be a str, got {type(reference).__name__}")
    ref = reference.strip()
    idx = ref.rfind("####")
    if idx >= 0:
        ans = ref[idx + 4 :].strip()
        if _REF_NUMBER_RE.fullmatch(ans):
            ans = ans.replace(",", "")
        return ans
    if BOX_RE.search(ref):
        parts = _last_boxed_parts(ref)
        if parts:
            return ", ".join(parts)
    return ref

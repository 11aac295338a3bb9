"""Filter patterns by AWS's documented examples, plus properties against reference evaluators."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.monitor.logs.pattern_space import split_fields
from heron.monitor.logs.pattern_values import parse_number
from heron.monitor.logs.patterns import WHITESPACE, PatternError, compile_pattern

CLOUDTRAIL = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "latency": 550,
        "ratio": 0.25,
    }
)
USERS = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [
            {"id": 2, "email": "John.Doe@example.com"},
            {"id": 3, "email": "Jane.Doe@example.com"},
        ],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)
APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'

# (pattern, line, expected) — the examples of AWS's "Filter and pattern syntax" page.
EXAMPLES: list[tuple[str, str, bool]] = [
    ("", "anything at all", True),
    (" ", "anything at all", True),
    ('""', "anything", True),
    ("ERROR", "[ERROR] A fatal exception has occurred", True),
    ("ERROR", "Exiting with ERRORCODE: -1", True),
    ("ERROR", "error in lower case", False),
    ('ERROR -"Exiting"', "Exiting with ERRORCODE: -1", False),
    ('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1", False),
    ("ERROR Exception", "[ERROR] Caught IllegalArgumentException", True),
    ("ERROR Exception", "[ERROR] Unhandled Exception", True),
    ("ERROR Exception", "[ERROR] Unhandled", False),
    ('"Failed to process the request"', "[WARN] Failed to process the request", True),
    ('"Failed to process the request"', "Failed to process request", False),
    ("ERROR", "ERROR WARN message", True),
    ("ERROR", "WARN message", False),
    ("?ERROR ?WARN", "ERROR WARN message", True),
    ("?ERROR ?WARN", "ERROR message", True),
    ("?ERROR ?WARN", "WARN message", True),
    ("?ERROR ?WARN", "INFO message", False),
    ("ERROR WARN", "ERROR WARN message", True),
    ("ERROR WARN", "ERROR message", False),
    ("ERROR -WARN", "ERROR message", True),
    ("ERROR -WARN", "ERROR WARN message", False),
    ("-DEBUG", "INFO hello", True),
    ("-DEBUG", "DEBUG hello", False),
    ("%ERR.R%", "an ERROR here", True),
    ("%^ERROR%", "an ERROR here", False),
    ("%^ERROR%", "ERROR first", True),
    ("%[0-9]{3}%", "status 404", True),
    ("%[0-9]{3}%", "status 40", False),
    ("?%WARN% ?%FATAL%", "FATAL crash", True),
    # JSON
    ('{ $.eventType = "UpdateTrail" }', CLOUDTRAIL, True),
    ("{ $.eventType = UpdateTrail }", CLOUDTRAIL, True),
    ('{ $.eventType = "updatetrail" }', CLOUDTRAIL, False),
    ('{ $.eventType != "UpdateTrail" }', CLOUDTRAIL, False),
    ("{ $.sourceIPAddress != 123.123.* }", CLOUDTRAIL, True),
    ("{ $.sourceIPAddress = 111.111.* }", CLOUDTRAIL, True),
    ("{ $.eventType = *Trail }", CLOUDTRAIL, True),
    ("{ $.eventType = Update* }", CLOUDTRAIL, True),
    ("{ $.eventType = U*Trail }", CLOUDTRAIL, True),
    ('{ $.eventType = "*" }', CLOUDTRAIL, True),
    ("{ $.latency = * }", CLOUDTRAIL, True),
    ("{ $.missing = * }", CLOUDTRAIL, False),
    ('{ $.arrayKey[0] = "value" }', CLOUDTRAIL, True),
    ('{ $.arrayKey[1] = "value" }', CLOUDTRAIL, False),
    ('{ $.arrayKey[5] = "value" }', CLOUDTRAIL, False),
    ("{ $.objectList[1].id = 2 }", CLOUDTRAIL, True),
    ("{ $.objectList[1].id = 1 }", CLOUDTRAIL, False),
    ("{ $.SomeObject IS NULL }", CLOUDTRAIL, True),
    ("{ $.eventType IS NULL }", CLOUDTRAIL, False),
    ("{ $.SomeOtherObject NOT EXISTS }", CLOUDTRAIL, True),
    ("{ $.eventType NOT EXISTS }", CLOUDTRAIL, False),
    ("{ $.ThisFlag IS TRUE }", CLOUDTRAIL, True),
    ("{ $.ThisFlag IS FALSE }", CLOUDTRAIL, False),
    ("{ $.arrayKey = 1 }", '{"arrayKey": [1, 2, 3]}', False),
    ("{ $.arrayKey != 1 }", '{"arrayKey": [1, 2, 3]}', False),
    ("{ $.users = 1 }", '{"users": [1, 2, 3]}', False),
    ("{ $.latency >= 500 }", CLOUDTRAIL, True),
    ("{ $.latency > +1000 }", CLOUDTRAIL, False),
    ("{ $.latency < 10e3 }", CLOUDTRAIL, True),
    ("{ $.latency < 10e-3 }", CLOUDTRAIL, False),
    ("{ $.ratio <= 55.5 }", CLOUDTRAIL, True),
    ("{ $.latency = 550 }", CLOUDTRAIL, True),
    ("{ $.latency != 500 }", CLOUDTRAIL, True),
    ("{ $.latency = 5* }", CLOUDTRAIL, True),
    ("{ $.eventType > 3 }", CLOUDTRAIL, False),
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', USERS, True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', USERS, False),
    (
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch'
        " && $.actions[2] = nomatch }",
        USERS,
        True,
    ),
    (
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch)'
        " && $.actions[2] = nomatch }",
        USERS,
        False,
    ),
    ("{ $.coordinates[1][2] = 6 }", USERS, True),
    ("{ $.foo = bar || $.foo = baz }", '{"foo": "baz"}', True),
    ("{ $.foo = bar }", '{"foo": "baz"}', False),
    ("{ $.eventType = %Upd.te% }", CLOUDTRAIL, True),
    ("{ $.eventType != %^Trail% }", CLOUDTRAIL, True),
    ("{ $.a = 1 }", "not json at all", False),
    ('{ $.msg = "say \\"hi\\"" }', '{"msg": "say \\"hi\\""}', True),
    # Space-delimited
    ("[ip, user, username, timestamp, request, status_code, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code, bytes > 2000]", APACHE, False),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE, False),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request = *.gif*, status_code, bytes]", APACHE, False),
    ("[..., status_code, bytes]", APACHE, True),
    ("[ip, user, ..., status_code, bytes]", APACHE, True),
    ("[ip, user, ...]", APACHE, True),
    ("[ip, user]", APACHE, False),
    ("[..., request=*.html*, status_code=4*,]", APACHE, True),
    (
        "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
        APACHE,
        True,
    ),
    (
        "[ip, user, username, timestamp, request, status_code = 404 || status_code = 410, bytes]",
        APACHE,
        True,
    ),
    (
        "[ip, user, username, timestamp, request, status_code = 400 || status_code = 410, bytes]",
        APACHE,
        False,
    ),
    ("[w1=ERROR, w2]", "ERROR WARN message", False),
    ("[w1=ERROR, w2]", "ERROR message", True),
    ("[w1=ERROR || w1=WARN, w2]", "ERROR message", True),
    ("[w1=ERROR || w1=WARN, w2]", "WARN message", True),
    ("[w1=ERROR || w1=WARN, w2]", "ERROR WARN message", False),
    ("[w1!=ERROR, w2]", "WARN message", True),
    ("[w1!=ERROR, w2]", "ERROR message", False),
    ("[w1=%^ERR%, w2]", "ERROR message", True),
    ("[a, b=%^[0-9]+$%]", "x 123", True),
    ("[a, b=%^[0-9]+$%]", "x 12a", False),
]


@pytest.mark.parametrize(("pattern", "line", "expected"), EXAMPLES)
def test_documented_examples(pattern: str, line: str, expected: bool) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.matches(line) is expected
    assert (compiled.match(line) is not None) is expected


def test_space_delimited_extraction_matches_aws_example() -> None:
    m = compile_pattern("[..., request=*.html*, status_code=4*,]").match(APACHE)
    assert m is not None
    assert m.extracted == {
        "$status_code": "404",
        "$request": "GET /index.html HTTP/1.0",
        "$7": "1534",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$3": "frank",
        "$2": "-",
        "$1": "127.0.0.1",
    }


def test_json_match_exposes_document_and_selector_values() -> None:
    m = compile_pattern("{ $.latency > 100 && $.eventType = Update* }").match(CLOUDTRAIL)
    assert m is not None
    assert m.doc["latency"] == 550
    assert m.extracted == {"$.latency": "550", "$.eventType": "UpdateTrail"}


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("ERROR:", "Invalid character(s) in term 'ERROR:'"),
        ("foo.bar", "Invalid character(s) in term 'foo.bar'"),
        ("%something!%", "Invalid character(s) in term '!'"),
        ("%(group)%", "Invalid character(s) in term '('"),
        ("{ $.a = 1", "Invalid filter pattern"),
        ("{ }", "Invalid filter pattern"),
        ("{ $.a === 1 }", "Invalid filter pattern"),
        ("{ $.a > abc }", "Invalid filter pattern"),
        ("{ $.a IS MAYBE }", "Invalid filter pattern"),
        ("{ $.a EXISTS }", "Invalid filter pattern"),
        ("{ ($.a = 1 }", "Invalid filter pattern"),
        ("[a, b", "Invalid filter pattern"),
        ("[..., a, ...]", "Invalid filter pattern"),
        ("[a = 1 && b = 2]", "Invalid filter pattern"),
        ('"unterminated', "Invalid filter pattern"),
        ("%a% %b% %c%", "Invalid filter pattern"),
        ("x" * 1025, "Invalid filter pattern"),
    ],
)
def test_invalid_patterns_raise_aws_messages(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == message


def test_required_literals_are_a_safe_prefilter() -> None:
    p = compile_pattern('{ $.level = "ERROR" && $.latency > 100 }')
    assert '"level"' in p.required and "ERROR" in p.required
    # An escaped spelling of the same value still matches: the prefilter lets backslashes through.
    assert p.matches('{"level": "\\u0045RROR", "latency": 150}')
    assert not p.matches('{"level": "INFO", "latency": 150}')


# --- properties ---------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    term=st.text(
        alphabet=st.characters(codec="ascii", exclude_characters='"\\'), min_size=1, max_size=8
    ),
    line=_text,
)
def test_quoted_term_is_substring_search(term: str, line: str) -> None:
    if not term.strip():
        return
    assert compile_pattern(f'"{term}"').matches(line) is (term in line)


@settings(max_examples=100, deadline=None)
@given(
    terms=st.lists(st.from_regex(r"[A-Za-z0-9_]{1,5}", fullmatch=True), min_size=1, max_size=3),
    line=st.text(alphabet="abcABC012_ ", max_size=30),
)
def test_terms_are_conjunctive_substrings(terms: list[str], line: str) -> None:
    assert compile_pattern(" ".join(terms)).matches(line) is all(t in line for t in terms)
    assert compile_pattern(" ".join("?" + t for t in terms)).matches(line) is any(
        t in line for t in terms
    )


_KEYS = ["a", "b", "c"]
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.sampled_from(["x", "y", "xy", "10", ""])
)
_docs = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(_KEYS), children, max_size=3),
    ),
    max_leaves=10,
)
_paths = st.lists(
    st.one_of(st.sampled_from(_KEYS), st.integers(0, 2)), min_size=1, max_size=3
).filter(lambda p: isinstance(p[0], str))
_MISSING = object()


def _select(doc: Any, path: list[Any]) -> Any:
    node = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return _MISSING
            node = node[step]
    return node


def _selector(path: list[Any]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)


def _reference(doc: Any, path: list[Any], op: str, literal: Any) -> bool:
    node = _select(doc, path)
    if op == "NOT EXISTS":
        return node is _MISSING
    if op == "IS NULL":
        return node is None
    if op == "IS TRUE":
        return node is True
    if node is _MISSING or isinstance(node, dict | list):
        return False
    if isinstance(literal, int):
        if isinstance(node, bool) or node is None:
            return False
        try:
            value = float(node)
        except ValueError:
            return False
        return {
            "=": value == literal,
            "!=": value != literal,
            "<": value < literal,
            ">": value > literal,
        }[op]
    text = (
        {True: "true", False: "false", None: "null"}.get(node, str(node))
        if not isinstance(node, str)
        else node
    )
    return (text == literal) if op == "=" else (text != literal)


@settings(max_examples=300, deadline=None)
@given(
    doc=st.dictionaries(st.sampled_from(_KEYS), _docs, max_size=3),
    path=_paths,
    op_literal=st.one_of(
        st.tuples(st.sampled_from(["=", "!="]), st.sampled_from(["x", "y", "xy"])),
        st.tuples(st.sampled_from(["=", "!=", "<", ">"]), st.integers(-5, 20)),
        st.tuples(st.sampled_from(["NOT EXISTS", "IS NULL", "IS TRUE"]), st.none()),
    ),
)
def test_json_selector_agrees_with_reference(
    doc: dict[str, Any], path: list[Any], op_literal: tuple[str, Any]
) -> None:
    op, literal = op_literal
    rhs = "" if literal is None else (f'"{literal}"' if isinstance(literal, str) else str(literal))
    pattern = compile_pattern(f"{{ {_selector(path)} {op} {rhs} }}")
    assert pattern.matches(json.dumps(doc)) is _reference(doc, path, op, literal)


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=6))
def test_space_delimited_extracts_every_field(words: list[str]) -> None:
    names = [f"f{i}" for i in range(len(words))]
    m = compile_pattern("[" + ", ".join(names) + "]").match(" ".join(words))
    assert m is not None
    assert m.extracted == {f"${n}": w for n, w in zip(names, words, strict=True)}
    assert compile_pattern("[" + ", ".join([*names, "extra"]) + "]").match(" ".join(words)) is None


TOKENS = ["REPORT", "Max", "Memory", "Used:", "Init", "Duration:", "12", "MB", "ERROR", "WARN",
          '"quoted words"', "[bracketed field]", "x", "123", "12a", "message", "-"]  # fmt: skip
SPACE_PATTERNS = [p for p, _, _ in EXAMPLES if p.startswith("[")] + [
    '[report="REPORT", rid_label, request_id, d_label, duration, d_unit, b1, b2, billed, b_unit,'
    ' m1, m2, memory_size, m_unit, mm1="Max", mm2="Memory", mm3="Used:", max_memory_used,'
    " mm_unit, ...]"
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SPACE_PATTERNS), st.lists(st.sampled_from(TOKENS), max_size=22))
def test_space_match_and_matches_always_agree(pattern: str, words: list[str]) -> None:
    compiled = compile_pattern(pattern)
    line = " ".join(words)
    assert (compiled.match(line) is not None) is compiled.matches(line)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab "[]\t\n\x1c\u2003\u00a0.')), max_size=40))
def test_field_splitting_agrees_with_the_field_grammar(line: str) -> None:
    # split_fields takes str.split when nothing is quoted or bracketed; either way the fields
    # are what the grammar (brackets, quotes, runs of non-space) says, without the delimiters.
    reference = [
        f[1:-1] if len(f) >= 2 and (f[0] + f[-1] in ("[]", '""')) else f
        for f in re.findall(r'\[[^\]]*\]|"[^"]*"|\S+', line)
    ]
    assert split_fields(line) == reference


FIRST_FIELDS = ["ab", "a", "b.a", '"ab"', "[ab]", '"a b"', "[b.a]", "abx", '"ab', "[a", "x"]


#: Lines whose first field may or may not be one of the texts the tests below look for, after
#: leading white space (Unicode's too) and with quoted or bracketed fields.
FIRST_FIELD_LINES = st.builds(
    lambda lead, words, sep: lead + sep.join(words),
    st.sampled_from(["", " ", "\t", "\u2003 ", "\x1c"]),
    st.lists(st.sampled_from(FIRST_FIELDS), max_size=4),
    st.sampled_from([" ", "\t", "  ", "\u2003"]),
)


@settings(max_examples=500, deadline=None)
@given(FIRST_FIELD_LINES)
def test_a_first_field_equality_matches_exactly_the_lines_that_start_with_that_field(
    line: str,
) -> None:
    # The first element's equality doubles as a prefilter on where the line's text starts;
    # a quoted or bracketed first field, or leading white space, must not fool it.
    fields = split_fields(line)
    for literal in ("ab", "a", "b.a"):
        m = compile_pattern(f'[first="{literal}", ...]').match(line)
        assert (m is not None) is (bool(fields) and fields[0] == literal)
        assert m is None or m.extracted["$first"] == literal


BATCH_PATTERNS = [*SPACE_PATTERNS, '"Task timed out"', '"REPORT" "Init Duration"', "ERROR ?WARN",
                  '{ $.level = "ERROR" }', '{ $.level = "ERR*" && $.n > 1 }']  # fmt: skip
LINES = [" ".join(w) for w in (TOKENS[i : i + 4] for i in range(0, len(TOKENS), 2))] + [
    '{"level": "ERROR", "n": 2}', '{"level": "\\u0045RROR", "n": 5}', '{"level": "INFO"}',
    "Task timed out after 3.00 seconds", "REPORT Init Duration: 12 ms",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BATCH_PATTERNS), st.lists(st.sampled_from(LINES), max_size=6))
def test_a_batch_ruled_out_as_a_whole_holds_no_matching_line(
    pattern: str, lines: list[str]
) -> None:
    compiled = compile_pattern(pattern)
    if not compiled.may_match_within("\n".join(lines)):
        assert not any(compiled.matches(line) for line in lines)


def test_an_escaped_literal_keeps_a_json_batch_in() -> None:
    compiled = compile_pattern('{ $.level = "ERROR" }')
    escaped = '{"level": "\\u0045RROR"}'
    assert compiled.matches(escaped)
    assert compiled.may_match_within("\n".join(['{"level": "INFO"}', escaped]))
    assert not compiled.may_match_within('{"level": "INFO"}\nplain text')


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789+-.eE x\u0661\u00b2")), max_size=8))
def test_numbers_are_what_the_number_grammar_says(text: str) -> None:
    # Digits-only text skips the regex; the answer must be the grammar's all the same
    # (Unicode digits included, which float() reads too; superscripts are not digits to it).
    grammar = re.fullmatch(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text)
    assert parse_number(text) == (float(text) if grammar else None)


@settings(max_examples=500, deadline=None)
@given(FIRST_FIELD_LINES)
def test_the_candidate_lines_include_every_matching_line(line: str) -> None:
    # Metric filters call match only on the candidates, so a matching line left out of them
    # would lose its datapoint.
    for literal in ("ab", "a", "b.a"):
        pattern = compile_pattern(f'[first="{literal}", ...]')
        assert pattern.leading == literal
        if pattern.match(line) is not None:
            assert pattern.candidates([(0, line)]) == [(0, line)]


def test_the_spelled_out_whitespace_is_pythons() -> None:
    assert set(WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}

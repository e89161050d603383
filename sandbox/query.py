"""QuickBooks' query language: parse a statement and run it against a company.

Grammar (Intuit's data-queries page)::

    SELECT * | COUNT(*) FROM <Entity>
      [WHERE <prop> <op> <value> [AND ...]]
      [ORDERBY <prop> [ASC|DESC][, ...]]
      [STARTPOSITION <n>] [MAXRESULTS <n>]

Keywords, entity and property names match case-insensitively; ``ORDER BY`` is
accepted as well as ``ORDERBY``. Unparseable text is fault 4000; a statement
that parses but asks for something QuickBooks refuses (a property that is not
queryable, ``Id < 5``, MAXRESULTS over 1000) is fault 4001.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from sandbox.clock import PACIFIC, parse_qbo_datetime
from sandbox.faults import invalid_query, parse_error
from sandbox.store import KNOWN_ENTITIES, NAME_LISTS, Company, render
from sandbox.table import Key, Table

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100

_COMMON = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
#: Filterable properties per entity (reference §2.5); everything else is 4001.
FILTERABLE: dict[str, tuple[str, ...]] = {
    "Customer": (
        *_COMMON,
        "DisplayName",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "FullyQualifiedName",
        "CompanyName",
        "PrintOnCheckName",
        "Active",
        "Balance",
        "PrimaryEmailAddr",
    ),
    "Invoice": (
        *_COMMON,
        "DocNumber",
        "TxnDate",
        "DueDate",
        "Balance",
        "TotalAmt",
        "CustomerRef",
        "SalesTermRef",
        "ProjectRef",
    ),
    "Payment": (*_COMMON, "TxnDate", "CustomerRef", "TotalAmt", "PaymentRefNum", "ProjectRef"),
    "CreditMemo": (*_COMMON, "DocNumber", "TxnDate", "Balance", "CustomerRef", "SalesTermRef"),
    "Term": (*_COMMON, "Name", "Active"),
    "Account": (
        *_COMMON,
        "Name",
        "FullyQualifiedName",
        "Active",
        "AccountType",
        "AccountSubType",
        "Classification",
        "CurrentBalance",
        "SubAccount",
    ),
    "Item": (*_COMMON, "Name", "FullyQualifiedName", "Active", "Type", "Sku", "Taxable", "UnitPrice"),
    "PaymentMethod": (*_COMMON, "Name", "Active", "Type"),
}

_DATETIME_PROPS = frozenset({"metadata.createtime", "metadata.lastupdatedtime"})

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Condition:
    prop: str
    op: str
    values: tuple[Any, ...]


@dataclass
class Query:
    entity: str
    count: bool = False
    conditions: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    start_position: int = 1
    max_results: int = DEFAULT_RESULTS


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise parse_error(f'Encountered "{text[pos : pos + 20]}" at column {pos + 1}.')
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, text: str, entities: dict[str, str]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.entities = {name.lower(): name for name in entities.values()}

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next(self, expected: str = "a token") -> _Tok:
        tok = self.peek()
        if tok is None:
            raise parse_error(f"Encountered end of statement; was expecting {expected}.")
        self.pos += 1
        return tok

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.upper() in words:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.next(f'"{text}"')
        if tok.text.upper() != text:
            raise parse_error(f'Encountered "{tok.text}"; was expecting "{text}".')

    def parse(self) -> Query:
        self.expect("SELECT")
        count = self._select_list()
        self.expect("FROM")
        name = self.next("an entity name").text
        entity = self.entities.get(name.lower())
        if entity is None:
            raise invalid_query(f"Entity '{name}' is not supported or does not exist.")
        query = Query(entity=entity, count=count)
        if self.keyword("WHERE"):
            query.conditions.append(self._condition(entity))
            while self.keyword("AND"):
                query.conditions.append(self._condition(entity))
        if self.keyword("ORDERBY") or (self.keyword("ORDER") and self._by()):
            query.order_by = self._order_list(entity)
        if self.keyword("STARTPOSITION"):
            query.start_position = max(1, self._int("STARTPOSITION"))
        if self.keyword("MAXRESULTS"):
            query.max_results = self._int("MAXRESULTS")
            if query.max_results > MAX_RESULTS:
                raise invalid_query(f"value {query.max_results} is too large. Max allowed value is {MAX_RESULTS}")
        leftover = self.peek()
        if leftover is not None:
            raise parse_error(f'Encountered "{leftover.text}" at end of statement.')
        return query

    def _by(self) -> bool:
        self.expect("BY")
        return True

    def _select_list(self) -> bool:
        tok = self.next("a select list")
        if tok.text == "*":
            # ``SELECT *, Sku FROM Item`` (python-quickbooks' Item.all): fields beyond the default
            # ones. The sandbox's objects carry every field they have, so the names change nothing.
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.pos += 1
                self.next("a property name")
            return False
        if tok.text.upper() == "COUNT":
            for part in ("(", "*", ")"):
                self.expect(part)
            return True
        raise invalid_query(f"select list '{tok.text}' is not supported; use * or COUNT(*)")

    def _property(self, entity: str) -> str:
        tok = self.next("a property name")
        if tok.kind != "word":
            raise parse_error(f'Encountered "{tok.text}"; was expecting a property name.')
        if entity not in FILTERABLE:  # an entity the sandbox holds nothing of: no row to test
            return tok.text
        for allowed in FILTERABLE[entity]:
            if allowed.lower() == tok.text.lower():
                return allowed
        raise invalid_query(f"property '{tok.text}' is not queryable")

    def _condition(self, entity: str) -> Condition:
        prop = self._property(entity)
        tok = self.next("an operator")
        op = tok.text.upper()
        if op == "IN":
            values = self._value_list()
        elif op == "LIKE" or tok.kind == "op":
            values = (self._value(),)
        else:
            raise parse_error(f'Encountered "{tok.text}"; was expecting an operator.')
        if prop == "Id" and op not in ("=", "IN"):
            raise invalid_query(f"operator '{op}' is not supported for property 'Id'")
        if op == "!=":
            raise invalid_query("operator '!=' is not supported")
        return Condition(prop, op, values)

    def _value_list(self) -> tuple[Any, ...]:
        self.expect("(")
        values = [self._value()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.pos += 1
            values.append(self._value())
        self.expect(")")
        return tuple(values)

    def _value(self) -> Any:
        tok = self.next("a value")
        if tok.kind == "string":
            return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
        if tok.kind == "number":
            return Decimal(tok.text)
        word = tok.text.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "current_date":
            return "CURRENT_DATE"
        raise parse_error(f'Encountered "{tok.text}"; was expecting a value.')

    def _order_list(self, entity: str) -> list[tuple[str, bool]]:
        order = []
        while True:
            prop = self._property(entity)
            if prop == "Id":  # Intuit's 2025 change: Ids are no longer sortable (reference §13.2)
                raise invalid_query("property 'Id' is not sortable")
            descending = self.keyword("DESC")
            if not descending:
                self.keyword("ASC")
            order.append((prop, descending))
            tok = self.peek()
            if tok is None or tok.text != ",":
                return order
            self.pos += 1

    def _int(self, clause: str) -> int:
        tok = self.next(f"a number after {clause}")
        if tok.kind != "number" or "." in tok.text:
            raise parse_error(f'Encountered "{tok.text}"; {clause} needs a whole number.')
        return int(tok.text)


def parse(text: str, entities: dict[str, str]) -> Query:
    """Parse a statement; raises :class:`~sandbox.faults.QboFault` (4000/4001)."""
    return _Parser(text, entities).parse()


def lookup(obj: dict[str, Any], prop: str) -> Any:
    """A property's value; references (``CustomerRef``) compare on their ``value``."""
    value: Any = obj
    for part in prop.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict):
        value = value.get("value", value.get("Address"))
    return value


def _coerce(literal: Any, actual: Any, prop: str, today: date) -> Any:
    """Bring a literal to the type of the stored value it is compared with."""
    if literal == "CURRENT_DATE":
        literal = today.isoformat()
    try:
        if prop.lower() in _DATETIME_PROPS:
            return parse_qbo_datetime(str(literal))
        if isinstance(actual, bool):
            return literal if isinstance(literal, bool) else str(literal).lower() == "true"
        if isinstance(actual, (Decimal, int, float)):
            return Decimal(str(literal))
        if isinstance(actual, date):
            return date.fromisoformat(str(literal)[:10])
    except (ValueError, InvalidOperation) as exc:
        raise invalid_query(f"value '{literal}' is not valid for property '{prop}'") from exc
    return str(literal)


def _matches(obj: dict[str, Any], cond: Condition, today: date) -> bool:
    actual = lookup(obj, cond.prop)
    if actual is None:
        return False
    values = [_coerce(v, actual, cond.prop, today) for v in cond.values]
    if isinstance(actual, str):
        actual = actual.lower()
        values = [v.lower() for v in values]
    if cond.op == "IN":
        return actual in values
    if cond.op == "LIKE":
        pattern = ".*".join(re.escape(part) for part in str(values[0]).split("%"))
        return re.fullmatch(pattern, str(actual), re.IGNORECASE) is not None
    return _compare(actual, cond.op, values[0])


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "=":
        return bool(actual == value)
    if op == "<":
        return bool(actual < value)
    if op == ">":
        return bool(actual > value)
    if op == "<=":
        return bool(actual <= value)
    return bool(actual >= value)


def _sort_key(obj: dict[str, Any], prop: str) -> tuple[int, Any]:
    value = lookup(obj, prop)
    if value is None:
        return (0, "")
    if prop == "Id" and isinstance(value, str) and value.isdigit():
        return (1, int(value))
    if isinstance(value, str):
        return (1, value.lower())
    if isinstance(value, datetime):
        return (1, value.astimezone(PACIFIC))
    return (1, value)


def execute(query: Query, rows: list[dict[str, Any]], hide_inactive: bool, today: date) -> list[dict[str, Any]]:
    """Filter, order and page ``rows``; returns the selected page (all rows for COUNT)."""
    asks_for_active = any(c.prop == "Active" for c in query.conditions)
    selected = [
        row
        for row in rows
        if (asks_for_active or not hide_inactive or row.get("Active", True))
        and all(_matches(row, cond, today) for cond in query.conditions)
    ]
    if query.count:
        return selected
    _order(selected, query.order_by)
    start = query.start_position - 1
    return selected[start : start + query.max_results]


def _order(rows: list[dict[str, Any]], order_by: list[tuple[str, bool]]) -> None:
    """QuickBooks' order: by Id, then by each ORDERBY property (the first one ruling)."""
    rows.sort(key=lambda row: _sort_key(row, "Id"))
    for prop, descending in reversed(order_by):
        rows.sort(key=lambda row, p=prop: _sort_key(row, p), reverse=descending)


# -- indexed execution against a company's tables ----------------------------------------

KeyTest = Callable[[str, Key], bool]
_BY_TIME = "MetaData.LastUpdatedTime"


def _key_test(cond: Condition, entity: str, today: date) -> KeyTest | None:
    """A test of ``cond`` on what the indexes hold, or None when the object must be read."""
    op = cond.op
    if cond.prop == "Id":
        wanted = {str(v) for v in cond.values}
        return lambda entity_id, key: entity_id in wanted
    if cond.prop == _BY_TIME and op != "LIKE":
        stamps = [_coerce(v, None, cond.prop, today).timestamp() for v in cond.values]
        if op == "IN":
            return lambda entity_id, key: key.updated in stamps
        return lambda entity_id, key: _compare(key.updated, op, stamps[0])
    if cond.prop == "Balance" and op != "LIKE":
        cents = [_coerce(v, Decimal(0), cond.prop, today) * 100 for v in cond.values]
        if op == "IN":
            return lambda entity_id, key: key.balance_cents in cents
        return lambda entity_id, key: _compare(key.balance_cents, op, cents[0])
    if cond.prop == "Active" and op in ("=", "IN"):
        flags = {_coerce(v, True, cond.prop, today) for v in cond.values}
        return lambda entity_id, key: key.active in flags
    if cond.prop == "CustomerRef" and op in ("=", "IN"):
        refs = {str(v) for v in cond.values}
        return lambda entity_id, key: key.ref in refs
    name_prop = "DisplayName" if entity == "Customer" else "Name"
    if cond.prop == name_prop and op in ("=", "IN"):
        names = {str(v).lower() for v in cond.values}
        return lambda entity_id, key: key.name in names
    return None


def _candidates(query: Query, table: Table, today: date) -> tuple[Sequence[str], str]:
    """Ids that may match, narrowed by an index, and the order they come in ("Id" or "time")."""
    for cond in query.conditions:
        if cond.prop == "Id":
            found = {str(v) for v in cond.values if str(v) in table}
            return sorted(found, key=_id_number), "Id"
        if cond.prop == "CustomerRef" and cond.op in ("=", "IN"):
            found = {i for v in cond.values for i in table.referring(str(v))}
            return sorted(found, key=_id_number), "Id"
        if cond.prop == ("DisplayName" if table.entity == "Customer" else "Name") and cond.op == "=":
            return sorted(table.named(str(cond.values[0])), key=_id_number), "Id"
    bounds = _time_bounds(query, today)
    if bounds or query.order_by[:1] == [(_BY_TIME, False)]:
        ranges = [table.by_time(**bound) for bound in bounds] or [table.by_time()]
        return min(ranges, key=len), "time"
    return table.ids(), "Id"


def _time_bounds(query: Query, today: date) -> list[dict[str, Any]]:
    """Each ``MetaData.LastUpdatedTime`` comparison of the query as the exact range it selects."""
    bounds = []
    for cond in _exact_time_conditions(query):
        stamp = _coerce(cond.values[0], None, cond.prop, today).timestamp()
        if cond.op in (">", ">="):
            bounds.append({"since": stamp, "after": cond.op == ">"})
        elif cond.op in ("<", "<="):
            bounds.append({"until": stamp, "before": cond.op == "<"})
        else:
            bounds.append({"since": stamp, "until": stamp})
    return bounds


def _exact_time_conditions(query: Query) -> list[Condition]:
    return [cond for cond in query.conditions if cond.prop == _BY_TIME and cond.op in ("<", "<=", ">", ">=", "=")]


def _id_number(entity_id: str) -> int:
    return int(entity_id) if entity_id.isdigit() else -1


def _in_order(query: Query, order: str) -> bool:
    """Whether candidates in ``order`` are already in the order the query asks for."""
    wanted = [(prop, desc) for prop, desc in query.order_by]
    if order == "Id":
        return not wanted
    return wanted == [(_BY_TIME, False)]


class _Plan:
    """How a parsed query reads a company's table.

    The indexes narrow the candidates and answer every test they can; objects
    are decoded only for the tests left. When the candidates already come in
    the requested order, reading stops at the end of the page, so a page costs
    the same however big the company is.
    """

    def __init__(self, company: Company, query: Query, today: date) -> None:
        self.query = query
        self.today = today
        self.table = table = company.entities[query.entity]
        table.reindex()  # objects changed earlier in this session
        self.key_tests: list[KeyTest] = []
        self.object_tests: list[Condition] = []
        self.candidates, self.order = _candidates(query, table, today)
        # A time comparison the candidates' range answers exactly needs no test, unless it is one of two.
        answered = _exact_time_conditions(query) if self.order == "time" else []
        for cond in query.conditions:
            if len(answered) == 1 and cond is answered[0]:
                continue
            test = _key_test(cond, query.entity, today)
            if test is None:
                self.object_tests.append(cond)
            else:
                self.key_tests.append(test)
        if query.entity in NAME_LISTS and not any(c.prop == "Active" for c in query.conditions):
            self.key_tests.append(lambda entity_id, key: key.active)  # name lists hide inactive rows

    def matching(self) -> Iterator[str]:
        table = self.table
        for entity_id in self.candidates:
            key = table.key(entity_id)
            if all(test(entity_id, key) for test in self.key_tests) and all(
                _matches(table.peek(entity_id), cond, self.today) for cond in self.object_tests
            ):
                yield entity_id

    def count(self) -> int:
        if not self.key_tests and not self.object_tests:
            return len(self.candidates)
        return sum(1 for _ in self.matching())

    def page(self) -> list[dict[str, Any]]:
        query, table = self.query, self.table
        start, stop = query.start_position - 1, query.start_position - 1 + query.max_results
        if _in_order(query, self.order):
            if not self.key_tests and not self.object_tests:
                return [table.peek(entity_id) for entity_id in self.candidates[start:stop]]
            return [table.peek(entity_id) for entity_id in islice(self.matching(), start, stop)]
        rows = [table.peek(entity_id) for entity_id in self.matching()]
        _order(rows, query.order_by)
        return rows[start:stop]


def count(company: Company, query: Query, today: date) -> int:
    """How many objects a parsed query selects (``COUNT(*)``)."""
    return _Plan(company, query, today).count()


def select(company: Company, query: Query, today: date) -> list[dict[str, Any]]:
    """The page of objects a parsed query asks for."""
    return _Plan(company, query, today).page()


def run_query(company: Company, text: str, today: date) -> dict[str, Any]:
    """The ``QueryResponse`` for a statement, in QuickBooks' envelope.

    Any entity of the Accounting API can be asked for; one the sandbox holds no
    objects of answers as a company without any does (an empty page, a count of 0).
    """
    parsed = parse(text, KNOWN_ENTITIES)
    if parsed.entity not in company.entities:
        # CompanyInfo and Preferences are one object per company, whatever the query filters on.
        single = {"CompanyInfo": company.info, "Preferences": company.preferences}.get(parsed.entity)
        page = [single] if single is not None and parsed.start_position == 1 else []
        if parsed.count:
            return {"QueryResponse": {"totalCount": 1 if single is not None else 0}}
    elif parsed.count:
        return {"QueryResponse": {"totalCount": count(company, parsed, today)}}
    else:
        page = select(company, parsed, today)
    if not page:
        return {"QueryResponse": {}}
    return {
        "QueryResponse": {parsed.entity: render(page), "startPosition": parsed.start_position, "maxResults": len(page)}
    }

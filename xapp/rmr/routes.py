"""RMR route tables: the text format, incremental loading and (mtype, sub_id) lookup.

Records (one per line, ``|``-separated, blanks and ``#`` comments ignored)::

    newrt|start[|table_id]             begin a complete replacement table
    mse|mtype[,sender]|sub_id|eps      route (mtype, sub_id) to eps
    rte|mtype[,sender]|eps[|sub_id]    legacy form of mse (sub_id defaults to -1)
    newrt|end[|count]                  activate it (count = records, checked when given)
    updatert|start[|table_id]          begin changes to the active table (mse, rte, del)
    del|mtype[,sender]|sub_id          remove a route (inside updatert)
    updatert|end[|count]
    meid_map|start                     begin changes to the meid -> owner map
    mme_ar|owner|meid meid ...         add or replace owners
    mme_del|meid meid ...              remove meids
    meid_map|end[|count]

Endpoint lists: ``;`` separates groups, each group gets a copy of the message; ``,``
separates round-robin members of a group. ``%meid`` as a group sends to the owner of
the message's meid, looked up in the meid map. As in librmr, a ``,sender`` list limits
a record to the processes it names, an endpoint naming this process is left out (no
process sends to itself), a ``#`` after whitespace starts a comment, and a section
opened while another is still open abandons (refuses) the open one.

Error policy (decided here, as librmr does not document one): a bad record is counted
in :attr:`RouteTableLoader.errors` by reason and poisons the section it belongs to, so
that section is refused at its end line and the active table stays as it was. A table
with a typo therefore never half-applies. :func:`parse_route_table` is the strict form
for seed files and raises :class:`RouteTableError` instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xapp.errors import MalformedInput
from xapp.rmr.mtypes import NO_SUB_ID

MEID_ENDPOINT = "%meid"
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class RouteTableError(MalformedInput):
    """A route-table record or section that cannot be used.

    ``reason`` is one of: ``bad_record``, ``unknown_record``, ``bad_number``,
    ``bad_endpoint``, ``outside_table``, ``unexpected_end``, ``count_mismatch``,
    ``abandoned``, ``unterminated_table``, ``no_table``.
    """

    source = "rmr.routes"


class EndpointGroup:
    """Round-robin members that share one copy of a message."""

    __slots__ = ("_next", "members")

    def __init__(self, members: tuple[str, ...]) -> None:
        self.members = members
        self._next = 0

    def pick(self) -> str:
        """The next member in round-robin order."""
        member = self.members[self._next % len(self.members)]
        self._next += 1
        return member

    def __repr__(self) -> str:
        return f"EndpointGroup({','.join(self.members)})"


@dataclass(frozen=True)
class RouteEntry:
    """Where messages with this (mtype, sub_id) go: one copy per group."""

    mtype: int
    sub_id: int
    groups: tuple[EndpointGroup, ...]


@dataclass(frozen=True)
class RouteTable:
    """An active, immutable route table (round-robin positions aside).

    Attributes:
        entries: routes keyed by (mtype, sub_id).
        meid_owners: meid -> ``host:port`` used by ``%meid`` groups.
        table_id: the id given on the ``newrt|start`` line, if any.
    """

    entries: Mapping[tuple[int, int], RouteEntry] = field(default_factory=dict)
    meid_owners: Mapping[str, str] = field(default_factory=dict)
    table_id: str = ""

    def lookup(self, mtype: int, sub_id: int = NO_SUB_ID) -> RouteEntry | None:
        """The entry for (mtype, sub_id), else for (mtype, -1), else ``None``."""
        entry = self.entries.get((mtype, sub_id))
        if entry is None and sub_id != NO_SUB_ID:
            entry = self.entries.get((mtype, NO_SUB_ID))
        return entry

    def endpoints(self, mtype: int, sub_id: int = NO_SUB_ID, meid: str = "") -> list[str]:
        """One ``host:port`` per group for a message, advancing round-robin positions.

        A ``%meid`` group yields the owner of ``meid``, or nothing when it has none.
        """
        entry = self.lookup(mtype, sub_id)
        if entry is None:
            return []
        chosen: list[str] = []
        for group in entry.groups:
            member = group.pick()
            if member == MEID_ENDPOINT:
                owner = self.meid_owners.get(meid)
                if owner is not None:
                    chosen.append(owner)
            else:
                chosen.append(member)
        return chosen


@dataclass(frozen=True)
class SectionOutcome:
    """What happened at a section's end line (the Route Manager is acked with it)."""

    section: str  # "newrt", "updatert" or "meid_map"
    table_id: str
    ok: bool
    reason: str = ""


def _int32(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise RouteTableError("bad_number", f"{what} {text!r} is not an integer") from None
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise RouteTableError("bad_number", f"{what} {value} does not fit int32")
    return value


def _endpoint(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if (
        not sep
        or not host
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or any(c.isspace() or c in "|,;%" for c in host)
    ):
        raise RouteTableError("bad_endpoint", f"{text!r} is not host:port")
    return text


def _groups(text: str, own_names: frozenset[str]) -> tuple[EndpointGroup, ...]:
    """Endpoint groups; members naming this process are left out (librmr never sends to
    itself) and groups left empty by that are dropped."""
    groups: list[EndpointGroup] = []
    for group_text in text.split(";"):
        members = tuple(m.strip() for m in group_text.split(","))
        if members == (MEID_ENDPOINT,):
            groups.append(EndpointGroup(members))
            continue
        kept = tuple(ep for ep in map(_endpoint, members) if ep not in own_names)
        if kept:
            groups.append(EndpointGroup(kept))
    return tuple(groups)


def _mtype_and_senders(text: str) -> tuple[int, tuple[str, ...]]:
    """``mtype[,sender,sender...]`` split into the type and the senders it applies to."""
    mtype_text, *senders = text.split(",")
    return _int32(mtype_text.strip(), "mtype"), tuple(_endpoint(s.strip()) for s in senders)


def _strip_comment(line: str) -> str:
    """The line without a trailing comment (``#`` preceded by whitespace, as in a shell)."""
    for at, char in enumerate(line):
        if char == "#" and (at == 0 or line[at - 1].isspace()):
            return line[:at].rstrip()
    return line


def _count(fields: list[str], records: int) -> None:
    if len(fields) > 2 and fields[2]:
        expected = _int32(fields[2], "record count")
        if expected != records:
            raise RouteTableError(
                "count_mismatch", f"end line says {expected} records, section had {records}"
            )


# Which records each section may hold.
_ALLOWED = {
    "newrt": ("mse", "rte"),
    "updatert": ("mse", "rte", "del"),
    "meid_map": ("mme_ar", "mme_del"),
}


@dataclass
class _Section:
    kind: str
    table_id: str
    entries: dict[tuple[int, int], RouteEntry]
    meid_owners: dict[str, str]
    records: int = 0
    problem: RouteTableError | None = None


class RouteTableLoader:
    """Builds route tables from text delivered in any number of pieces.

    Each :meth:`feed` call must hold whole lines (a seed file, or one mtype 20 push).
    A table is only installed in :attr:`active` at its end line, and only if every
    record of its section parsed; a half-received table never replaces the active one.

    Args:
        own_names: names this process answers to (``host:port``); records carrying a
            ``,sender`` qualifier are installed only when the sender is one of them.
    """

    def __init__(self, own_names: Iterable[str] = ()) -> None:
        self.own_names = frozenset(own_names)
        self.active: RouteTable | None = None
        self.errors: Counter[str] = Counter()
        self.first_error: RouteTableError | None = None
        self._section: _Section | None = None

    @property
    def in_section(self) -> bool:
        """True while a section has started and not yet ended."""
        return self._section is not None

    def feed(self, text: str) -> list[SectionOutcome]:
        """Apply whole lines of route-table text; return the sections they ended."""
        outcomes: list[SectionOutcome] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = _strip_comment(raw.strip())
            if not line:
                continue
            try:
                outcome = self._line([f.strip() for f in line.split("|")])
            except RouteTableError as exc:
                self._problem(RouteTableError(exc.reason, f"line {number} {line!r}: {exc.detail}"))
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _problem(self, exc: RouteTableError) -> None:
        self.errors[exc.reason] += 1
        if self.first_error is None:
            self.first_error = exc
        if self._section is not None and self._section.problem is None:
            self._section.problem = exc

    def _line(self, fields: list[str]) -> SectionOutcome | None:
        kind = fields[0]
        if kind in ("newrt", "updatert", "meid_map") and len(fields) >= 2:
            if fields[1] == "start":
                return self._start(kind, fields[2] if len(fields) > 2 else "")
            if fields[1] == "end":
                return self._end(kind, fields)
            raise RouteTableError("bad_record", f"{kind} needs start or end")
        section = self._section
        if kind not in ("mse", "rte", "del", "mme_ar", "mme_del"):
            raise RouteTableError("unknown_record", f"record type {kind!r}")
        if section is None:
            raise RouteTableError("outside_table", f"{kind} record before any start line")
        section.records += 1
        if kind not in _ALLOWED[section.kind]:
            raise RouteTableError("bad_record", f"{kind} is not allowed in {section.kind}")
        if kind in ("mse", "rte"):
            self._route(section, kind, fields)
        elif kind == "del":
            self._delete(section, fields)
        else:
            self._meid_record(section, kind, fields)
        return None

    def _delete(self, section: _Section, fields: list[str]) -> None:
        if len(fields) != 3:
            raise RouteTableError("bad_record", "del needs mtype[,sender]|sub_id")
        mtype, senders = _mtype_and_senders(fields[1])
        sub_id = _int32(fields[2], "sub_id")
        if self._applies(senders):
            section.entries.pop((mtype, sub_id), None)

    @staticmethod
    def _meid_record(section: _Section, kind: str, fields: list[str]) -> None:
        if kind == "mme_ar":
            if len(fields) != 3 or not fields[2]:
                raise RouteTableError("bad_record", "mme_ar needs owner|meid ...")
            owner = _endpoint(fields[1])
            for meid in fields[2].split():
                section.meid_owners[meid] = owner
            return
        if len(fields) != 2 or not fields[1]:
            raise RouteTableError("bad_record", "mme_del needs meid ...")
        for meid in fields[1].split():
            section.meid_owners.pop(meid, None)

    def _route(self, section: _Section, kind: str, fields: list[str]) -> None:
        if kind == "mse" and len(fields) == 4:
            sub_text, eps_text = fields[2], fields[3]
        elif kind == "rte" and len(fields) in (3, 4):
            sub_text, eps_text = (fields[3] if len(fields) == 4 else str(NO_SUB_ID)), fields[2]
        else:
            raise RouteTableError("bad_record", f"{kind} has {len(fields)} fields")
        mtype, senders = _mtype_and_senders(fields[1])
        sub_id = _int32(sub_text, "sub_id")
        groups = _groups(eps_text, self.own_names)
        if self._applies(senders):
            section.entries[(mtype, sub_id)] = RouteEntry(mtype, sub_id, groups)

    def _applies(self, senders: tuple[str, ...]) -> bool:
        """A record applies to every process, or only to the senders it names."""
        return not senders or not self.own_names.isdisjoint(senders)

    def _start(self, kind: str, table_id: str) -> SectionOutcome | None:
        """Open a section; a section still open is refused (librmr nacks it too)."""
        abandoned = None
        if self._section is not None:
            old = self._section
            self._problem(
                RouteTableError(
                    "abandoned", f"{old.kind} section replaced by {kind} before its end"
                )
            )
            abandoned = SectionOutcome(old.kind, old.table_id, False, "abandoned")
        base = self.active or RouteTable()
        # newrt replaces the routes but keeps the meid map (they arrive separately);
        # an update without a table id keeps the current one.
        entries = {} if kind == "newrt" else dict(base.entries)
        table_id = table_id or (base.table_id if kind == "updatert" else "")
        self._section = _Section(kind, table_id, entries, dict(base.meid_owners))
        return abandoned

    def _end(self, kind: str, fields: list[str]) -> SectionOutcome:
        section = self._section
        if section is None or section.kind != kind:
            raise RouteTableError("unexpected_end", f"{kind}|end without {kind}|start")
        try:
            _count(fields, section.records)
        except RouteTableError as exc:
            self._problem(exc)
        self._section = None
        if section.problem is not None:
            return SectionOutcome(kind, section.table_id, False, section.problem.reason)
        self.active = RouteTable(section.entries, section.meid_owners, section.table_id)
        return SectionOutcome(kind, section.table_id, True)


def parse_route_table(text: str, own_names: Iterable[str] = ()) -> RouteTable:
    """Strictly parse a complete table (a seed file): every record must be valid.

    Raises:
        RouteTableError: the first bad record, a section left open, or no table at all.
    """
    loader = RouteTableLoader(own_names)
    loader.feed(text)
    if loader.first_error is not None:
        raise loader.first_error
    if loader.in_section:
        raise RouteTableError("unterminated_table", "a section has no end line")
    if loader.active is None:
        raise RouteTableError("no_table", "no newrt|start ... newrt|end section")
    return loader.active

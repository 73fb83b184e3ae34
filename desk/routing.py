"""Routing rules: units, topics, counties, rules, survey questions; loaded from YAML, validated.

Every error names the file and the line, because the person fixing it is an operator
with a text editor, not a programmer with a debugger.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from desk.calendar import WorkCalendar, parse_jalali
from desk.model import ChatRef, Kind, Platform


class RulesError(ValueError):
    """The rules file is wrong; the message names the line and what to fix."""


@dataclass(frozen=True, slots=True)
class Template:
    """A ready answer a unit's staff may send (`/templates`): a short title for its button and
    the text the citizen reads."""

    title: str
    text: str


# a template's title is a button's label; its text is an answer (validation.STAFF_TEXT_MAX)
TEMPLATE_TITLE_MAX = 40
TEMPLATE_TEXT_MAX = 3500
TEMPLATES_MAX = 20  # buttons under one message, one a row


@dataclass(frozen=True, slots=True)
class Unit:
    """A specialised unit, its staff group chats and its staff's ready answers."""

    key: str
    name: str
    chats: dict[Platform, int] = field(default_factory=dict)
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """A topic or a county a citizen picks from buttons."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Rule:
    """First match wins: every condition given must hold (a list means any of)."""

    unit: str
    kinds: frozenset[Kind] = frozenset()
    topics: frozenset[str] = frozenset()
    counties: frozenset[str] = frozenset()
    line: int = 0

    def matches(self, kind: Kind, topic: str | None, county: str | None) -> bool:
        """Whether a request with these fields falls under the rule."""
        return (
            (not self.kinds or kind in self.kinds)
            and (not self.topics or topic in self.topics)
            and (not self.counties or county in self.counties)
        )


@dataclass(frozen=True, slots=True)
class SurveyConfig:
    """The service survey: services to rate, Likert questions, whether a comment is invited."""

    services: tuple[str, ...]
    questions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sla:
    """Answer deadlines in working days, the working week and holidays (ISO Jalali strings)."""

    days: dict[Kind, int]
    working_days: tuple[int, ...]  # Python weekday numbers: Monday is 0, Saturday 5
    holidays: frozenset[date]
    escalate_to: str

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar these settings describe."""
        return WorkCalendar(self.working_days, self.holidays)


def admin_chats(admins: Mapping[Platform, frozenset[int]]) -> list[ChatRef]:
    """Every admin chat of `admins` (the rules' `admins:`), platform by platform, in id order:
    where alerts and admin notices go."""
    return [
        ChatRef(platform, chat_id) for platform, ids in admins.items() for chat_id in sorted(ids)
    ]


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """Everything an operator configures about who gets what."""

    organisation: str
    units: dict[str, Unit]
    topics: tuple[Choice, ...]
    counties: tuple[Choice, ...]
    rules: tuple[Rule, ...]
    default: str
    sla: Sla
    admins: dict[Platform, frozenset[int]]
    survey: SurveyConfig

    def match(self, kind: Kind, topic: str | None = None, county: str | None = None) -> Unit:
        """The unit a request goes to: the first rule that matches, else the default."""
        for rule in self.rules:
            if rule.matches(kind, topic, county):
                return self.units[rule.unit]
        return self.units[self.default]

    def topic(self, key: str) -> Choice:
        """A topic by key."""
        return _by_key(self.topics)[key]

    def county(self, key: str) -> Choice:
        """A county by key."""
        return _by_key(self.counties)[key]

    def unit_for_chat(self, platform: Platform, chat_id: int) -> Unit | None:
        """The unit whose staff chat this is, if any."""
        for unit in self.units.values():
            if unit.chats.get(platform) == chat_id:
                return unit
        return None

    def is_office_chat(self, platform: Platform, chat_id: int) -> bool:
        """Whether this is a unit's staff group or an admin chat (not a citizen's)."""
        return chat_id in self.admins.get(platform, frozenset()) or (
            self.unit_for_chat(platform, chat_id) is not None
        )

    def staff_chat(self, unit_key: str, preferred: Platform | None) -> ChatRef | None:
        """Where a unit's staff read requests: their group on the citizen's platform if they
        have one there, else their group on the other platform."""
        chats = self.units[unit_key].chats
        if preferred is not None and preferred in chats:
            return ChatRef(preferred, chats[preferred])
        for platform in Platform:
            if platform in chats:
                return ChatRef(platform, chats[platform])
        return None

    def check_chats(self, platforms: list[Platform]) -> None:
        """Every unit needs a staff chat on at least one platform the bot runs on."""
        if not platforms:
            return
        for unit in self.units.values():
            if not any(p in unit.chats for p in platforms):
                wanted = " or ".join(f"{p.value}_chat" for p in platforms)
                raise RulesError(f"unit '{unit.key}' has no staff chat: set {wanted}")


def _by_key(choices: tuple[Choice, ...]) -> dict[str, Choice]:
    return {c.key: c for c in choices}


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and remembers each mapping's line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise RulesError(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = key_node.start_mark.line + 1
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@functools.lru_cache(maxsize=16)
def _parsed(text: str) -> Any:
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass


def load_yaml(text: str) -> Any:
    """A rules or directory file's YAML, with each mapping's lines; duplicate keys refused.

    PyYAML's pure-Python parser (its error messages quote the line and point at the column,
    and it is the same on every install) costs about 40 ms a file; a process reads the same
    files at every start of the bot (the tests start it hundreds of times), so the result is
    kept per text and each caller gets its own copy. A failure is not kept: it is parsed again.
    """
    return copy.deepcopy(_parsed(text))


def _at(item: dict[str, Any], key: str | None = None) -> str:
    line = item.get("__lines__", {}).get(key) if key else None
    return f"line {line or item.get('__line__', '?')}"


def _require(item: dict[str, Any], key: str, kind: type | tuple[type, ...] = str) -> Any:
    value = item.get(key)
    if value is None or value == "":
        raise RulesError(f"{_at(item)}: '{key}' is missing")
    if not isinstance(value, kind):
        raise RulesError(f"{_at(item)}: '{key}' has the wrong type ({value!r})")
    return value


def _list_of_maps(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise RulesError(f"{_at(data)}: '{key}' must be a non-empty list")
    for item in value:
        if not isinstance(item, dict):
            raise RulesError(f"'{key}': every entry must be a mapping ({item!r})")
    return value


def _as_set(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _choices(data: dict[str, Any], key: str, label: str) -> tuple[Choice, ...]:
    seen: set[str] = set()
    out = []
    for item in _list_of_maps(data, key):
        ckey, name = _require(item, "key"), _require(item, "name")
        if ckey in seen:
            raise RulesError(f"{_at(item)}: duplicate {label} key '{ckey}'")
        seen.add(ckey)
        out.append(Choice(ckey, name))
    return tuple(out)


def _templates(unit: dict[str, Any]) -> tuple[Template, ...]:
    """A unit's `templates:`: a list of mappings with a `title` and a `text` (none is fine)."""
    value = unit.get("templates")
    if value is None:
        return ()
    where = _at(unit, "templates")
    if not isinstance(value, list):
        raise RulesError(f"{where}: 'templates' must be a list of title and text")
    if len(value) > TEMPLATES_MAX:
        raise RulesError(f"{where}: at most {TEMPLATES_MAX} templates a unit ({len(value)} given)")
    out: list[Template] = []
    for item in value:
        if not isinstance(item, dict):
            raise RulesError(f"{where}: every template needs a 'title' and a 'text' ({item!r})")
        title = " ".join(str(_require(item, "title")).split())
        text = str(_require(item, "text")).strip()
        if len(title) > TEMPLATE_TITLE_MAX:
            raise RulesError(
                f"{_at(item, 'title')}: template title '{title}' is {len(title)} characters; "
                f"at most {TEMPLATE_TITLE_MAX} fit on a button"
            )
        length = len(text.encode("utf-16-le")) // 2  # as the messengers count
        if length > TEMPLATE_TEXT_MAX:
            raise RulesError(
                f"{_at(item, 'text')}: template '{title}' is {length} characters; "
                f"an answer may have at most {TEMPLATE_TEXT_MAX}"
            )
        if any(t.title == title for t in out):
            raise RulesError(f"{_at(item, 'title')}: duplicate template title '{title}'")
        out.append(Template(title, text))
    return tuple(out)


def parse_rules(data: Any) -> RoutingRules:
    """Build and validate rules from parsed YAML (mappings carry '__line__')."""
    if not isinstance(data, dict):
        raise RulesError("the file must be a mapping with units, topics, counties and rules")
    units: dict[str, Unit] = {}
    for item in _list_of_maps(data, "units"):
        key, name = _require(item, "key"), _require(item, "name")
        if key in units:
            raise RulesError(f"{_at(item)}: duplicate unit key '{key}'")
        if ":" in key:  # the key travels in buttons' data, where ':' separates the fields
            raise RulesError(f"{_at(item)}: unit key '{key}' must not contain ':'")
        chats: dict[Platform, int] = {}
        for platform in Platform:
            chat = item.get(f"{platform.value}_chat")
            if chat is not None:
                if not isinstance(chat, int) or isinstance(chat, bool):
                    raise RulesError(f"{_at(item)}: {platform.value}_chat must be a chat id number")
                chats[platform] = chat
        units[key] = Unit(key, name, chats, _templates(item))

    def unit_ref(item: dict[str, Any], key: str) -> str:
        ref = _require(item, key)
        if ref not in units:
            raise RulesError(f"{_at(item)}: unknown unit '{ref}'")
        return str(ref)

    topics = _choices(data, "topics", "topic")
    counties = _choices(data, "counties", "county")
    topic_keys = {t.key for t in topics}
    county_keys = {c.key for c in counties}

    rules = []
    for item in data.get("rules") or []:
        kinds = []
        for k in _as_set(item.get("kind")):
            try:
                kinds.append(Kind(k))
            except ValueError:
                raise RulesError(f"{_at(item)}: unknown kind '{k}'") from None
        topics_ = _as_set(item.get("topic"))
        counties_ = _as_set(item.get("county"))
        for t in topics_:
            if t not in topic_keys:
                raise RulesError(f"{_at(item)}: unknown topic '{t}'")
        for c in counties_:
            if c not in county_keys:
                raise RulesError(f"{_at(item)}: unknown county '{c}'")
        rules.append(
            Rule(
                unit=unit_ref(item, "unit"),
                kinds=frozenset(kinds),
                topics=frozenset(topics_),
                counties=frozenset(counties_),
                line=int(item["__line__"]),
            )
        )

    default = data.get("default")
    if default not in units:
        raise RulesError(f"{_at(data, 'default')}: 'default' must name a unit (got {default!r})")

    sla_data = data.get("sla") or {"__line__": "?"}
    days: dict[Kind, int] = {}
    for k, v in (sla_data.get("days") or {}).items():
        if k in ("__line__", "__lines__"):
            continue
        try:
            days[Kind(k)] = int(v)
        except ValueError:
            raise RulesError(f"{_at(sla_data)}: sla.days has an unknown kind '{k}'") from None
    working = []
    for name in sla_data.get("working_days") or ["sat", "sun", "mon", "tue", "wed"]:
        if name not in _WEEKDAYS:
            raise RulesError(f"{_at(sla_data)}: unknown working day '{name}' (use sat, sun, ...)")
        working.append(_WEEKDAYS[name])
    escalate_to = sla_data.get("escalate_to", "head_office")
    if escalate_to not in units:
        where = _at(sla_data, "escalate_to")
        raise RulesError(f"{where}: sla.escalate_to names an unknown unit '{escalate_to}'")
    holidays = set()
    for item in sla_data.get("holidays") or []:
        try:
            holidays.add(parse_jalali(str(item)))
        except ValueError as exc:
            raise RulesError(f"{_at(sla_data, 'holidays')}: holiday {item!r}: {exc}") from None
    for kind, count in days.items():
        if count < 1:
            raise RulesError(f"{_at(sla_data, 'days')}: sla.days.{kind.value} must be 1 or more")
    sla = Sla(
        days=days,
        working_days=tuple(working),
        holidays=frozenset(holidays),
        escalate_to=escalate_to,
    )

    admins: dict[Platform, frozenset[int]] = {}
    admin_data = data.get("admins") or {}
    for platform in Platform:
        ids = _as_set(admin_data.get(platform.value))
        if not all(isinstance(i, int) for i in ids):
            raise RulesError(f"{_at(admin_data)}: admins.{platform.value} must list chat ids")
        admins[platform] = frozenset(ids)

    survey_data = data.get("survey")
    if not isinstance(survey_data, dict):
        raise RulesError(f"{_at(data)}: 'survey' is missing: it lists services and questions")
    services = _as_set(survey_data.get("services"))
    questions = _as_set(survey_data.get("questions"))
    if not services or not questions:
        raise RulesError(f"{_at(survey_data)}: survey needs 'services' and 'questions'")
    survey = SurveyConfig(tuple(map(str, services)), tuple(map(str, questions)))

    return RoutingRules(
        organisation=str(data.get("organisation") or "سازمان جهاد کشاورزی استان خراسان جنوبی"),
        units=units,
        topics=topics,
        counties=counties,
        rules=tuple(rules),
        default=default,
        sla=sla,
        admins=admins,
        survey=survey,
    )


def load_rules(path: str | Path) -> RoutingRules:
    """Read and validate a rules file; errors are prefixed with the file name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the routing rules ({exc.strerror})") from None
    try:
        return parse_rules(load_yaml(text))
    except RulesError as exc:
        raise RulesError(f"{path}, {exc}") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from None

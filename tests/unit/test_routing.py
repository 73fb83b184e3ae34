"""desk.routing: the shipped rules, first-match routing, and errors that name the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desk.model import ChatRef, Kind, Platform
from desk.routing import RoutingRules, RulesError, load_rules

SHIPPED = Path(__file__).resolve().parents[2] / "routing_rules.yaml"

MINIMAL = """\
# a small rules file for tests
organisation: test
units:
  - key: head_office
    name: دفتر ریاست
    telegram_chat: -1001
    bale_chat: 501
  - key: pr
    name: روابط عمومی
    telegram_chat: -1002
    bale_chat: 502
  - key: water_soil
    name: آب و خاک
    telegram_chat: -1003
    bale_chat: 503
topics:
  - key: water
    name: آب
  - key: other
    name: سایر
counties:
  - key: ferdows
    name: فردوس
  - key: birjand
    name: بیرجند
rules:
  - topic: water
    unit: water_soil
  - county: ferdows
    unit: pr
default: pr
survey:
  services: [مجوزها]
  questions: [رفتار کارکنان؟]
"""


@pytest.fixture(scope="module")
def shipped() -> RoutingRules:
    return load_rules(SHIPPED)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the `occurrence`-th `needle` (as a whole word)."""
    pattern = re.compile(re.escape(needle) + r"(?!\w)")
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if pattern.search(line)]
    return hits[occurrence - 1]


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    message = str(info.value)
    assert str(path) in message
    return message


def unit_key(rules: RoutingRules, platform: Platform, chat_id: int) -> str | None:
    unit = rules.unit_for_chat(platform, chat_id)
    return unit.key if unit else None


def assert_names_line(message: str, line: int) -> None:
    assert re.search(rf"\bline {line}\b", message), message


# --- the shipped file --------------------------------------------------------------------------


def test_shipped_rules_load(shipped: RoutingRules) -> None:
    assert shipped.default == "public_relations"
    assert "head_office" in shipped.units
    assert [t.key for t in shipped.topics][-1] == "other"
    assert shipped.county("ferdows").name == "فردوس"
    assert shipped.topic("water").name == "آب و آبیاری"
    assert shipped.survey.services and shipped.survey.questions
    assert shipped.sla.escalate_to == "head_office"
    assert shipped.sla.days[Kind.COMPLAINT] == 10
    shipped.check_chats([Platform.TELEGRAM, Platform.BALE])


@pytest.mark.parametrize("topic", [None, "water", "staff_conduct", "permits", "other"])
@pytest.mark.parametrize("county", [None, "ferdows", "birjand"])
def test_head_messages_go_to_head_office(
    shipped: RoutingRules, topic: str | None, county: str | None
) -> None:
    assert shipped.match(Kind.HEAD, topic, county).key == "head_office"


@pytest.mark.parametrize("kind", [Kind.COMPLAINT, Kind.SUGGESTION])
@pytest.mark.parametrize("county", [None, "ferdows"])
def test_staff_conduct_goes_to_inspection(
    shipped: RoutingRules, kind: Kind, county: str | None
) -> None:
    assert shipped.match(kind, "staff_conduct", county).key == "inspection"


@pytest.mark.parametrize("county", [None, "birjand", "zirkuh"])
def test_water_goes_to_water_soil(shipped: RoutingRules, county: str | None) -> None:
    assert shipped.match(Kind.COMPLAINT, "water", county).key == "water_soil"
    assert shipped.match(Kind.SUGGESTION, "water", county).key == "water_soil"


def test_permits_complaint_from_a_county_goes_to_that_county(shipped: RoutingRules) -> None:
    assert shipped.match(Kind.COMPLAINT, "permits", "ferdows").key == "county_ferdows"
    assert shipped.match(Kind.COMPLAINT, "permits", "birjand").key == "county_birjand"


def test_unmatched_request_goes_to_the_default(shipped: RoutingRules) -> None:
    assert shipped.match(Kind.SUGGESTION, "other", None).key == "public_relations"
    assert shipped.match(Kind.COMPLAINT, "permits", None).key == "public_relations"


def test_survey_goes_to_inspection(shipped: RoutingRules) -> None:
    assert shipped.match(Kind.SURVEY).key == "inspection"


def test_unit_for_chat(shipped: RoutingRules) -> None:
    assert unit_key(shipped, Platform.BALE, 5100000016) == "county_ferdows"
    assert unit_key(shipped, Platform.TELEGRAM, -1001000000002) == "inspection"
    # the same number on the other platform is nobody's chat
    assert unit_key(shipped, Platform.TELEGRAM, 5100000016) is None
    assert unit_key(shipped, Platform.BALE, -1001000000002) is None
    assert unit_key(shipped, Platform.BALE, 42) is None


# --- a small file ------------------------------------------------------------------------------


def test_minimal_file_loads(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, MINIMAL))
    assert list(rules.units) == ["head_office", "pr", "water_soil"]
    assert rules.rules[0].line == line_of(MINIMAL, "- topic: water")
    assert rules.units["pr"].chats == {Platform.TELEGRAM: -1002, Platform.BALE: 502}
    assert rules.sla.working_days == (5, 6, 0, 1, 2)  # sat..wed by default


def test_first_match_wins(tmp_path: Path) -> None:
    # water from ferdows matches both rules; the earlier one wins
    rules = load_rules(write(tmp_path, MINIMAL))
    assert rules.match(Kind.COMPLAINT, "water", "ferdows").key == "water_soil"
    swapped = MINIMAL.replace(
        "  - topic: water\n    unit: water_soil\n  - county: ferdows\n    unit: pr\n",
        "  - county: ferdows\n    unit: pr\n  - topic: water\n    unit: water_soil\n",
    )
    assert swapped != MINIMAL
    rules = load_rules(write(tmp_path, swapped))
    assert rules.match(Kind.COMPLAINT, "water", "ferdows").key == "pr"
    assert rules.match(Kind.COMPLAINT, "water", "birjand").key == "water_soil"


def test_rule_conditions_must_all_hold_and_lists_mean_any(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "rules:\n",
        "rules:\n  - kind: [complaint, head]\n    topic: other\n    county: [birjand]\n"
        "    unit: head_office\n",
    )
    rules = load_rules(write(tmp_path, text))
    assert rules.match(Kind.HEAD, "other", "birjand").key == "head_office"
    assert rules.match(Kind.COMPLAINT, "other", "birjand").key == "head_office"
    assert rules.match(Kind.SUGGESTION, "other", "birjand").key == "pr"
    assert rules.match(Kind.COMPLAINT, "other", None).key == "pr"


def test_check_chats_wants_a_chat_on_a_running_platform(tmp_path: Path) -> None:
    text = MINIMAL.replace("    bale_chat: 502\n", "")
    rules = load_rules(write(tmp_path, text))
    rules.check_chats([Platform.TELEGRAM])
    rules.check_chats([Platform.TELEGRAM, Platform.BALE])  # Telegram's group serves Bale too
    with pytest.raises(RulesError, match=r"unit 'pr' has no staff chat: set bale_chat"):
        rules.check_chats([Platform.BALE])


def test_staff_chat_prefers_the_citizens_platform(tmp_path: Path) -> None:
    text = MINIMAL.replace("    bale_chat: 502\n", "")
    rules = load_rules(write(tmp_path, text))
    assert rules.staff_chat("pr", Platform.BALE) == ChatRef(
        Platform.TELEGRAM, rules.units["pr"].chats[Platform.TELEGRAM]
    )
    assert rules.staff_chat("water_soil", Platform.BALE) == ChatRef(Platform.BALE, 503)


def test_unit_for_chat_in_small_file(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, MINIMAL))
    assert unit_key(rules, Platform.BALE, 503) == "water_soil"
    assert unit_key(rules, Platform.TELEGRAM, -1001) == "head_office"
    assert unit_key(rules, Platform.TELEGRAM, 503) is None


# --- errors name the line ----------------------------------------------------------------------


def test_duplicate_key_in_a_mapping(tmp_path: Path) -> None:
    text = MINIMAL.replace("    name: روابط عمومی\n", "    name: روابط عمومی\n    name: دوباره\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "name: دوباره"))
    assert "duplicate key 'name'" in message


def test_duplicate_unit_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - key: water_soil\n", "  - key: pr\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- key: pr", occurrence=2))
    assert "duplicate unit key 'pr'" in message


def test_rule_naming_an_unknown_unit(tmp_path: Path) -> None:
    text = MINIMAL.replace("    unit: water_soil\n", "    unit: nowhere\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- topic: water"))
    assert "unknown unit 'nowhere'" in message


def test_rule_missing_its_unit(tmp_path: Path) -> None:
    text = MINIMAL.replace("    unit: water_soil\n", "")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- topic: water"))
    assert "'unit' is missing" in message


def test_unknown_topic(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - county: ferdows\n", "  - topic: [other, weather]\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- topic: [other, weather]"))
    assert "unknown topic 'weather'" in message


def test_unknown_county(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - county: ferdows\n", "  - county: tabas\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- county: tabas"))
    assert "unknown county 'tabas'" in message


def test_unknown_kind(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - county: ferdows\n", "  - kind: praise\n    county: ferdows\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- kind: praise"))
    assert "unknown kind 'praise'" in message


def test_duplicate_topic_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - key: other\n", "  - key: water\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- key: water", occurrence=2))
    assert "duplicate topic key 'water'" in message


def test_duplicate_county_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - key: birjand\n", "  - key: ferdows\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- key: ferdows", occurrence=2))
    assert "duplicate county key 'ferdows'" in message


def test_default_naming_an_unknown_unit_names_it(tmp_path: Path) -> None:
    text = MINIMAL.replace("default: pr\n", "default: nowhere\n")
    message = load_error(tmp_path, text)
    assert "'default'" in message and "nowhere" in message


def test_default_naming_an_unknown_unit_names_the_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("default: pr\n", "default: nowhere\n")
    assert_names_line(load_error(tmp_path, text), line_of(text, "default: nowhere"))


def test_missing_survey_is_reported(tmp_path: Path) -> None:
    text = MINIMAL.split("survey:\n", maxsplit=1)[0]
    message = load_error(tmp_path, text)
    assert "'survey' is missing" in message


def test_missing_survey_names_the_line(tmp_path: Path) -> None:
    text = MINIMAL.split("survey:\n", maxsplit=1)[0]
    assert_names_line(load_error(tmp_path, text), line_of(text, "organisation:"))


def test_missing_units_names_the_line(tmp_path: Path) -> None:
    text = "# comment\norganisation: test\ntopics:\n" + MINIMAL.split("topics:\n", 1)[1]
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "organisation:"))
    assert "'units' must be a non-empty list" in message


def test_survey_without_questions_names_the_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("  questions: [رفتار کارکنان؟]\n", "")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "  services:"))
    assert "survey needs 'services' and 'questions'" in message


def test_bad_chat_id_names_the_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("    bale_chat: 503\n", "    bale_chat: group-three\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- key: water_soil"))
    assert "bale_chat must be a chat id number" in message


def test_unreadable_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the routing rules"):
        load_rules(tmp_path / "missing.yaml")
    assert "not valid YAML" in load_error(tmp_path, "units: [unclosed\n")


def test_bad_yaml_is_shown_at_its_line_however_often_it_is_read(tmp_path: Path) -> None:
    """The operator sees the offending line quoted with a ^ under the column, on every read
    (a parsed file is kept for the next start, a failure never is)."""
    text = MINIMAL.replace("organisation:", "organisation:\t", 1)  # a tab YAML does not allow
    for _ in range(2):
        message = load_error(tmp_path, text)
        assert "not valid YAML" in message and "^" in message, message


def test_each_read_gets_its_own_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    first, second = load_rules(path), load_rules(path)
    assert first == second
    assert first.units is not second.units, "a cached parse is never shared between callers"


def test_unit_key_with_the_buttons_separator(tmp_path: Path) -> None:
    text = MINIMAL.replace("  - key: water_soil\n", "  - key: water:soil\n")
    message = load_error(tmp_path, text)
    assert_names_line(message, line_of(text, "- key: water:soil"))
    assert "must not contain ':'" in message


# --- a unit's ready answers (templates:) ---------------------------------------------------------

TEMPLATES = """\
    templates:
      - title: بازدید کارشناس
        text: >-
          کارشناس ما برای بازدید
          با شما تماس می‌گیرد.
      - title: "  مدارک   لازم "
        text: |
          لطفاً مدارک را بیاورید.
"""


def _with_templates(block: str) -> str:
    return MINIMAL.replace("    bale_chat: 503\n", "    bale_chat: 503\n" + block)


def test_templates_load_per_unit_and_are_optional(tmp_path: Path, shipped: RoutingRules) -> None:
    rules = load_rules(write(tmp_path, _with_templates(TEMPLATES)))
    water = rules.units["water_soil"].templates
    assert [(t.title, t.text) for t in water] == [
        ("بازدید کارشناس", "کارشناس ما برای بازدید با شما تماس می‌گیرد."),
        ("مدارک لازم", "لطفاً مدارک را بیاورید."),  # spaces tidied, the last newline gone
    ]
    assert rules.units["pr"].templates == ()
    # the shipped file offers some, each fitting a button and an answer
    assert shipped.units["water_soil"].templates
    for unit in shipped.units.values():
        for template in unit.templates:
            assert 0 < len(template.title) <= 40 and 0 < len(template.text) <= 3500


@pytest.mark.parametrize(
    ("block", "needle", "error"),
    [
        ("    templates: بازدید\n", "templates:", "'templates' must be a list"),
        ("    templates:\n      - بازدید\n", "templates:", "needs a 'title' and a 'text'"),
        ("    templates:\n      - title: بازدید\n", "- title: بازدید", "'text' is missing"),
        ("    templates:\n      - text: متن\n", "- text: متن", "'title' is missing"),
        (
            "    templates:\n      - title: " + "ب" * 41 + "\n        text: متن\n",
            "- title:",
            "at most 40 fit on a button",
        ),
        (
            "    templates:\n      - title: بلند\n        text: " + "ب" * 3501 + "\n",
            "text: ببب",
            "is 3501 characters; an answer may have at most 3500",
        ),
        (
            "    templates:\n      - title: الف\n        text: یک\n"
            "      - title: الف\n        text: دو\n",
            "- title: الف",
            "duplicate template title 'الف'",
        ),
    ],
)
def test_a_wrong_template_names_its_line(
    tmp_path: Path, block: str, needle: str, error: str
) -> None:
    text = _with_templates(block)
    message = load_error(tmp_path, text)
    assert error in message
    occurrence = 2 if "duplicate" in error else 1
    assert_names_line(message, _line_with(text, needle, occurrence))


def _line_with(text: str, needle: str, occurrence: int) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def test_at_most_twenty_templates_a_unit(tmp_path: Path) -> None:
    many = "".join(f"      - title: پاسخ {i}\n        text: متن {i}\n" for i in range(21))
    message = load_error(tmp_path, _with_templates("    templates:\n" + many))
    assert "at most 20 templates a unit (21 given)" in message

"""desk.directory: the shipped directory, errors that name the line, Persian-aware search."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from desk.directory import (
    Directory,
    DirectoryError,
    Entry,
    display_phone,
    load_directory,
    parse_phone,
    search_words,
)
from desk.routing import RoutingRules, RulesError, load_rules

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "directory.yaml"

SMALL = """\
# a small directory for tests
office:
  address: بیرجند، بلوار آزمایش ۱۲
  switchboard: +98 56 3223 1500
  hours: شنبه تا چهارشنبه، ۷:۳۰ تا ۱۴:۳۰
entries:
  - unit: head_office
    role: رئیس سازمان
    name: مهندس محمد رضایی
    phone: +98 56 3223 1501
    email: head@jkj-skh.ir
  - unit: horticulture
    role: مدیر باغبانی
    name: مهندس رضا عرب‌زاده
    phone: "056-32231580"
    mobile: ۰۹۱۵ ۱۲۳ ۴۵۶۷
    email: baghbani@jkj-skh.ir
  - unit: county_birjand
    role: مدیر جهاد کشاورزی شهرستان بیرجند
    name: زهرا کاظمی
    phone: 0098 56 3222 4410
"""


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules(ROOT / "routing_rules.yaml")


@pytest.fixture(scope="module")
def shipped(rules: RoutingRules) -> Directory:
    return load_directory(SHIPPED, rules)


@pytest.fixture(scope="module")
def small(rules: RoutingRules, tmp_path_factory: pytest.TempPathFactory) -> Directory:
    path = tmp_path_factory.mktemp("dir") / "directory.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_directory(path, rules)


def error_of(tmp_path: Path, rules: RoutingRules, text: str) -> str:
    path = tmp_path / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path, rules)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    return message


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing needle."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# --- the shipped file ---------------------------------------------------------------------------


def test_shipped_directory_is_valid_and_complete(shipped: Directory, rules: RoutingRules) -> None:
    office = shipped.office
    assert "بیرجند" in office.address
    assert office.switchboard.startswith("+9856")
    assert "شنبه تا چهارشنبه" in office.hours and "۷:۳۰" in office.hours
    assert len(shipped.entries) >= 20
    units = {e.unit for e in shipped.entries}
    for wanted in (
        "head_office", "inspection", "public_relations", "water_soil", "agronomy",
        "horticulture", "livestock", "plant_protection", "land_affairs", "extension",
        "insurance", "fisheries",
    ):  # fmt: skip
        assert wanted in units, wanted
    assert sum(u.startswith("county_") for u in units) >= 3
    assert units <= set(rules.units)
    for entry in shipped.entries:
        assert entry.phone.startswith("+9856") and len(entry.phone) == 13, entry
        assert entry.email and entry.email.endswith("@jkj-skh.ir"), entry
        assert entry.unit_name == rules.units[entry.unit].name
    assert [e.index for e in shipped.entries] == list(range(len(shipped.entries)))
    assert any(e.mobile for e in shipped.entries)


def test_units_in_order_of_first_entry(shipped: Directory) -> None:
    units = shipped.units()
    assert units[0] == ("head_office", "دفتر ریاست سازمان")
    assert len({k for k, _ in units}) == len(units)
    assert shipped.by_unit("head_office")[0].role == "رئیس سازمان"


def test_by_unit_and_entry(small: Directory) -> None:
    assert [e.name for e in small.by_unit("horticulture")] == ["مهندس رضا عرب‌زاده"]
    assert small.by_unit("livestock") == [] and small.by_unit("nonsense") == []
    assert small.entry(0) is small.entries[0]
    assert small.entry(3) is None and small.entry(-1) is None


def test_phones_are_canonical(small: Directory) -> None:
    head, gardener, county = small.entries
    assert head.phone == "+985632231501"
    assert gardener.phone == "+985632231580" and gardener.mobile == "+989151234567"
    assert county.phone == "+985632224410" and county.email is None


def test_directory_error_is_printed_like_rules_errors() -> None:
    assert issubclass(DirectoryError, RulesError)


# --- errors name the line -----------------------------------------------------------------------


def test_unknown_unit_names_its_line(tmp_path: Path, rules: RoutingRules) -> None:
    broken = SMALL.replace("unit: horticulture", "unit: gardens")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, 'unit: gardens')}:" in message and "'gardens'" in message


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("+98 56 3223 15x1", "only digits"),
        ("+98 56 3223 150", "11 digits"),
        ("3223 1501", "11 digits"),
        ("+44 20 7946 0000", "+98"),
        ("056+32231501", "+ may only start"),
    ],
)
def test_bad_phone_names_its_line(tmp_path: Path, rules: RoutingRules, bad: str, why: str) -> None:
    broken = SMALL.replace("phone: +98 56 3223 1501", f"phone: {bad}")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, 'phone: ' + bad)}:" in message and why in message, message


def test_unquoted_leading_zero_phone_is_refused_with_a_hint(
    tmp_path: Path, rules: RoutingRules
) -> None:
    # digits 0-7 after a leading zero: YAML 1.1 reads an octal number, the zero is gone
    broken = SMALL.replace('phone: "056-32231580"', "phone: 05632231577")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, '05632231577')}:" in message and "must be text" in message


def test_landline_as_mobile_is_refused(tmp_path: Path, rules: RoutingRules) -> None:
    broken = SMALL.replace("mobile: ۰۹۱۵ ۱۲۳ ۴۵۶۷", "mobile: +98 56 3223 1581")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, 'mobile:')}:" in message and "09" in message


@pytest.mark.parametrize("bad", ["head-at-jkj-skh.ir", "head@jkj", "سر@jkj-skh.ir", "a b@x.ir"])
def test_bad_email_names_its_line(tmp_path: Path, rules: RoutingRules, bad: str) -> None:
    broken = SMALL.replace("email: head@jkj-skh.ir", f"email: {bad}")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, 'email: ' + bad)}:" in message and "e-mail" in message


def test_duplicate_key_names_its_line(tmp_path: Path, rules: RoutingRules) -> None:
    broken = SMALL.replace(
        "    email: baghbani@jkj-skh.ir\n",
        "    email: baghbani@jkj-skh.ir\n    phone: +98 56 3223 1599\n",
    )
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, '3223 1599')}:" in message and "duplicate key 'phone'" in message


def test_duplicate_entry_names_both_lines(tmp_path: Path, rules: RoutingRules) -> None:
    # the same person, written once with Arabic letters: still the same entry
    broken = SMALL + (
        "  - unit: head_office\n"
        "    role: رئيس سازمان\n"
        "    name: مهندس محمد رضايي\n"
        "    phone: +98 56 3223 1509\n"
    )
    message = error_of(tmp_path, rules, broken)
    first = line_of(SMALL, "unit: head_office")
    second = len(SMALL.splitlines()) + 1
    assert f"line {second}:" in message and f"line {first}" in message


def test_unknown_field_names_its_line(tmp_path: Path, rules: RoutingRules) -> None:
    broken = SMALL.replace("email: head@jkj-skh.ir", "emial: head@jkj-skh.ir")
    message = error_of(tmp_path, rules, broken)
    assert f"line {line_of(broken, 'emial')}:" in message and "'emial'" in message


def test_missing_fields_are_named(tmp_path: Path, rules: RoutingRules) -> None:
    no_name = SMALL.replace("    name: زهرا کاظمی\n", "")
    assert "'name' is missing" in error_of(tmp_path, rules, no_name)
    no_hours = SMALL.replace("  hours: شنبه تا چهارشنبه، ۷:۳۰ تا ۱۴:۳۰\n", "")
    assert "'hours' is missing" in error_of(tmp_path, rules, no_hours)
    no_office = SMALL.split("entries:")[1]
    assert "office" in error_of(tmp_path, rules, "entries:" + no_office)
    assert "not valid YAML" in error_of(tmp_path, rules, "office: [unclosed\n")


def test_missing_file_is_named(tmp_path: Path, rules: RoutingRules) -> None:
    with pytest.raises(DirectoryError, match="cannot read the contact directory"):
        load_directory(tmp_path / "nope.yaml", rules)


# --- search -------------------------------------------------------------------------------------


def names(entries: list[Entry]) -> list[str]:
    return [e.name for e in entries]


def test_search_with_arabic_letters(small: Directory, shipped: Directory) -> None:
    assert names(small.search("مدير")) == ["مهندس رضا عرب‌زاده", "زهرا کاظمی"]
    assert names(small.search("كاظمي")) == ["زهرا کاظمی"]  # Arabic kaf and yeh
    assert names(small.search("رئيس")) == ["مهندس محمد رضایی"]
    assert names(small.search("رییس")) == ["مهندس محمد رضایی"]  # «رییس» for «رئیس»
    assert "مهندس مریم کاظمی" in names(shipped.search("كاظمى"))


def test_search_with_persian_and_arabic_digits(small: Directory, shipped: Directory) -> None:
    assert names(small.search("۱۵۸۰")) == ["مهندس رضا عرب‌زاده"]  # the direct line
    assert names(small.search("١٥٠١")) == ["مهندس محمد رضایی"]  # Arabic-Indic digits
    assert names(small.search("۰۹۱۵۱۲۳")) == ["مهندس رضا عرب‌زاده"]  # the mobile
    assert [e.role for e in shipped.search("۳۲۲۳۱۵۰۱")] == ["رئیس سازمان"]


@pytest.mark.parametrize("term", ["عرب‌زاده", "عربزاده", "عرب زاده", "عرب\u200c\u200cزاده"])
def test_search_ignores_zwnj_and_spacing(small: Directory, term: str) -> None:
    assert names(small.search(term)) == ["مهندس رضا عرب‌زاده"]


def test_search_zwnj_in_the_file_side(shipped: Directory) -> None:
    # «برنامه‌ریزی» with ZWNJ in the file, typed without it or with a space
    for term in ("برنامه ریزی", "برنامهریزی", "برنامه‌ریزی"):
        assert [e.role for e in shipped.search(term)] == ["معاون برنامه‌ریزی و امور اقتصادی"]


def test_search_matches_unit_name_and_every_word(small: Directory, shipped: Directory) -> None:
    assert names(small.search("بیرجند")) == ["زهرا کاظمی"]  # role and unit name
    assert names(small.search("دفتر ریاست")) == ["مهندس محمد رضایی"]  # the unit's name
    assert names(small.search("باغبانی مدیر")) == ["مهندس رضا عرب‌زاده"]  # any order
    assert small.search("باغبانی دام") == []
    assert [e.unit for e in shipped.search("بيمه")] == ["insurance", "insurance"]
    assert names(small.search("baghbani")) == ["مهندس رضا عرب‌زاده"]  # the e-mail


def test_search_needs_two_letters(small: Directory) -> None:
    assert small.search("ر") == [] and small.search("") == [] and small.search("!!") == []
    assert small.search("\u200c\u200f ") == []
    assert search_words("آب، و «خاک»") == ["اب", "و", "خاک"]


# --- phone numbers ------------------------------------------------------------------------------


def test_parse_and_display_phones() -> None:
    for written in ("+98 56 3223 1500", "056-32231500", "۰۵۶۳۲۲۳۱۵۰۰", "0098 56 32231500"):
        assert parse_phone(written) == "+985632231500"
    assert display_phone("+985632231500") == "056-32231500"
    assert display_phone(parse_phone("+98 915 561 2040", mobile=True)) == "0915-561-2040"
    with pytest.raises(ValueError, match="09"):
        parse_phone("056-32231500", mobile=True)


# --- settings -----------------------------------------------------------------------------------


def test_directory_file_defaults_to_beside_the_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIRECTORY_FILE", raising=False)
    monkeypatch.delenv("ROUTING_RULES", raising=False)
    plain = load_settings(_env_file=None)
    assert plain.directory_file == Path("directory.yaml")
    beside = load_settings(_env_file=None, routing_rules=tmp_path / "rules.yaml")
    assert beside.directory_file == tmp_path / "directory.yaml"
    chosen = load_settings(
        _env_file=None, routing_rules=tmp_path / "r.yaml", directory_file="x.yaml"
    )
    assert chosen.directory_file == Path("x.yaml")

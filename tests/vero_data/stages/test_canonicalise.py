import pytest

from vero_data.errors import RowError
from vero_data.stages.canonicalise import RuleCanonicaliser, trim_number

C = RuleCanonicaliser()


@pytest.mark.parametrize(
    ("answer", "rtype", "extra", "want"),
    [
        ("1,234", "numeric", {}, "1234"),
        ("12.50", "numeric", {}, "12.5"),
        ("12.0", "numeric", {}, "12"),
        ("$25", "numeric", {}, "25"),
        ("45°", "numeric", {}, "45"),
        ("12 cm", "numeric", {}, "12"),
        ("25%", "numeric", {}, "25"),
        ("-.5", "numeric", {}, "-0.5"),
        ("\\frac{1}{4}", "numeric", {}, "\\frac{1}{4}"),
        ("three", "counting", {}, "3"),
        ("(B)", "multiple_choice", {"choices": ["a", "b", "c"]}, "B"),
        ("c.", "multiple_choice", {"choices": ["a", "b", "c"]}, "C"),
        ("B. a horse", "multiple_choice", {"choices": ["a dog", "a horse"]}, "B"),
        ("a horse", "multiple_choice", {"choices": ["a dog", "a horse"]}, "B"),
        ("Yes", "string_match", {}, "yes"),
        ("Paris.", "string_match", {}, "Paris"),
        ('[{"bbox_2d": [1, 2, 3, 4]}]', "grounding", {}, '[{"bbox_2d": [1, 2, 3, 4]}]'),
    ],
)
def test_rules(answer, rtype, extra, want):
    assert C.canonicalise(answer, rtype, dict(extra)) == want


def test_unit_is_kept_in_extra_info():
    extra = {}
    assert C.canonicalise("12 cm", "numeric", extra) == "12" and extra["unit"] == "cm"


@pytest.mark.parametrize(("answer", "choices"), [("the cat", []), ("E", ["a", "b"]), ("Option Z", ["a"])])
def test_unmappable_mc_is_rejected(answer, choices):
    with pytest.raises(RowError):
        C.canonicalise(answer, "multiple_choice", {"choices": choices})


def test_trim_number():
    assert [trim_number(x) for x in ("0.0", "+3", "1,000.00", "−2")] == ["0", "3", "1000", "-2"]

import pytest

from zkshell.options import Flag, OptionError, OptionSpec, parse_options

CREATE = OptionSpec((Flag("e"), Flag("s"), Flag("c"), Flag("t", takes_value=True)))
SET = OptionSpec((Flag("s"), Flag("v", takes_value=True)))
QUOTA = OptionSpec((Flag("n", True, "num soft quota"), Flag("b", True, "bytes soft quota")),
                   exclusive=True, group_required=True)


def test_flags_may_follow_the_path():
    parsed = parse_options(OptionSpec((Flag("w"),)), ["ls", "/", "-w"])
    assert parsed.args == ["ls", "/"] and parsed.has("w")


def test_combined_flags():
    parsed = parse_options(CREATE, ["create", "-es", "/t"])
    assert parsed.has("e") and parsed.has("s") and parsed.args == ["create", "/t"]


def test_values_attached_separate_and_negative():
    assert parse_options(CREATE, ["create", "-t100", "/t"]).value("t") == "100"
    assert parse_options(CREATE, ["create", "-t", "5", "/t"]).value("t") == "5"
    assert parse_options(SET, ["set", "-v", "-1", "/x", "d"]).value("v") == "-1"


def test_double_dash_ends_flags():
    parsed = parse_options(SET, ["set", "--", "/x", "-s"])
    assert parsed.args == ["set", "/x", "-s"] and not parsed.has("s")


def test_unknown_flag_is_named():
    with pytest.raises(OptionError, match="Unrecognized option: -z"):
        parse_options(CREATE, ["create", "-z", "/t"])
    with pytest.raises(OptionError, match="Unrecognized option: -ez"):
        parse_options(CREATE, ["create", "-ez", "/t"])


def test_missing_value():
    with pytest.raises(OptionError, match="Missing argument for option: v"):
        parse_options(SET, ["set", "/x", "d", "-v"])


def test_option_group_is_exclusive_and_required():
    with pytest.raises(OptionError, match="Missing required option"):
        parse_options(QUOTA, ["setquota", "/q"])
    with pytest.raises(OptionError, match="already been selected"):
        parse_options(QUOTA, ["setquota", "-n", "1", "-b", "2", "/q"])

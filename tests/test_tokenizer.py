from zkshell.tokenizer import spans, split_line


def test_words_are_split_on_whitespace():
    assert split_line("create  -e /master\tm1") == ["create", "-e", "/master", "m1"]


def test_quotes_group_words_and_are_removed():
    assert split_line('create /m "m1 example"') == ["create", "/m", "m1 example"]
    assert split_line("create /m 'a b'") == ["create", "/m", "a b"]


def test_empty_quotes_give_an_empty_word():
    assert split_line('create /workers ""') == ["create", "/workers", ""]
    assert split_line("create /workers ''") == ["create", "/workers", ""]


def test_zkcli_quirks_without_escapes():
    assert split_line('set /x a"b"c') == ["set", "/x", 'a"b"c']
    assert split_line('set /x "a"b') == ["set", "/x", "a", "b"]
    assert split_line('set /x "abc d') == ["set", "/x", "abc", "d"]


def test_blank_line_has_no_words():
    assert split_line("") == []


def test_a_line_of_spaces_is_one_word_of_a_space_as_in_zkcli():
    assert split_line("   ") == [" "]


def test_spans_say_where_each_word_is_with_its_quotes():
    assert list(spans('create  /m "a b"\tx')) == [
        (0, 6, "create"), (8, 10, "/m"), (11, 16, '"a b"'), (17, 18, "x")]


def test_a_line_being_typed_keeps_an_open_quote_as_the_last_word():
    assert list(spans('set /x "abc d', typing=True)) == [
        (0, 3, "set"), (4, 6, "/x"), (7, 13, '"abc d')]
    assert [word for _, _, word in spans('set /x "abc d')] == ["set", "/x", "abc", "d"]
    assert list(spans('set /x "abc" d', typing=True))[2:] == [(7, 12, '"abc"'), (13, 14, "d")]

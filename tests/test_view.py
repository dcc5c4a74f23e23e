"""The teaching view: panes, labels, captions and states, rendered on a fixed-size console."""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from zkshell.player.countdown import Silence
from zkshell.player.loader import load_scenario
from zkshell.player.observers import Fanout
from zkshell.player.panes import (
    BOTTOM,
    DOWN,
    NEXT_PANE,
    PAGE_DOWN,
    PAGE_UP,
    TOP,
    UP,
    Board,
    Pane,
    Picture,
    transcript_text,
)
from zkshell.player.runner import PASSED, LogEntry, Player, server_for
from zkshell.player.view import TeachingView, layout_shape, pane_text, state_style

from .conftest import make_server

WIDTH, HEIGHT = 120, 40
WIDE = 200


def render(picture: Picture, width: int = WIDTH, height: int = HEIGHT, fit: bool = False):
    """The view as text, and the console (to look at styles)."""
    console = Console(file=io.StringIO(), width=width, height=height, record=True,
                      force_terminal=True, color_system="truecolor")
    console.print(TeachingView(picture, fit=fit))
    return console.export_text(clear=False), console


def picture(panes, caption="A caption", status="1/3: m1: ls /") -> Picture:
    return Picture(title="A title", caption=caption, captions=(caption,), panes=tuple(panes),
                   progress="step 1/3 · 1 passed · 0 failed", status=status)


def pane(name, entries=(), state="connected", prompt="[zk: 127.0.0.1:2181(CONNECTED) 1] ",
         label=None, typing="") -> Pane:
    return Pane(name, label or name, tuple(entries), state, prompt, typing)


# ---- layout, without a server ------------------------------------------------------------
@pytest.mark.parametrize("count, width, height, shape", [
    (1, 120, 38, (1, 1)), (2, 120, 38, (2, 1)), (3, 200, 38, (3, 1)), (4, 240, 38, (4, 1)),
    (4, 160, 43, (2, 2)), (4, 120, 38, (2, 2)), (5, 200, 38, (3, 2)), (6, 200, 38, (3, 2)),
    (3, 120, 38, (2, 2)), (4, 80, 22, (1, 4)), (3, 60, 38, (1, 3)),
    # Too short for a pane a row: narrower panes, each still with lines of its own.
    (4, 80, 12, (2, 2)), (6, 40, 10, (3, 2)),
])
def test_auto_puts_panes_side_by_side_while_they_are_readable_then_in_rows(count, width,
                                                                            height, shape):
    assert layout_shape(count, width, height) == shape


@pytest.mark.parametrize("layout, count, shape", [
    ("columns", 4, (4, 1)), ("columns", 6, (6, 1)), ("grid", 4, (2, 2)), ("grid", 2, (2, 1)),
    ("grid", 5, (3, 2)), ("grid", 9, (3, 3)), ("grid", 1, (1, 1)),
])
def test_a_layout_asked_for_is_kept_whatever_the_size(layout, count, shape):
    assert layout_shape(count, 80, 22, layout) == shape
    assert layout_shape(count, 300, 80, layout) == shape


def test_the_view_fills_the_console_with_a_title_panes_a_caption_and_a_status():
    text, _ = render(picture([pane("m1", label="Process 1 — m1.example.com"),
                              pane("m2", label="Process 2", state="crashed", prompt=None)]))
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == HEIGHT
    assert lines[0].startswith("A title") and lines[0].endswith("step 1/3 · 1 passed · 0 failed")
    assert "Process 1 — m1.example.com" in lines[1] and "Process 2" in lines[1]
    assert lines[-2].strip() == "A caption"
    assert lines[-1].startswith("1/3: m1: ls /")
    border = lines[-3]
    assert border.index(" connected ") < border.index(" crashed ")


def test_a_pane_shows_the_most_recent_lines_that_fit():
    entries = [LogEntry("output", f"line {n}\n") for n in range(100)]
    text, _ = render(picture([pane("m1", entries)]), height=20)
    assert "line 99" in text and "line 86" in text
    assert "line 84" not in text
    assert "[zk: 127.0.0.1:2181(CONNECTED) 1]" in text.rstrip("\n").split("\n")[-4]


def test_long_lines_wrap_inside_their_pane_instead_of_being_cut():
    entries = [LogEntry("command", "[zk: 127.0.0.1:2181(CONNECTED) 0] create /a/very/long/"
                        "path/indeed \"with data that does not fit one line of the pane\"")]
    text, _ = render(picture([pane("m1", entries), pane("m2"), pane("m3")]))
    assert 'of the pane"' in text  # the end of the line, on a line of its own


def test_watcher_blocks_are_set_apart_by_their_style():
    event = LogEntry("event", "\nWATCHER::\n\nWatchedEvent state:SyncConnected "
                     "type:NodeDeleted path:/master\n")
    text = pane_text(pane("m2", [LogEntry("output", "m1.example.com\n"), event]))
    styles = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert "magenta" in styles["WATCHER::"]
    assert "magenta" in styles[
        "WatchedEvent state:SyncConnected type:NodeDeleted path:/master"]
    assert "m1.example.com" not in styles


def test_what_is_being_typed_follows_the_prompt_with_a_cursor():
    text, _ = render(picture([pane("m1", typing="create -e /mas")]))
    assert "[zk: 127.0.0.1:2181(CONNECTED) 1] create -e /mas" in text


def test_too_many_sessions_for_the_width_wrap_into_rows():
    names = [f"worker{n}" for n in range(5)]
    # Three panes of 60 columns in a row: a readable width (at 120, rows of two).
    text, _ = render(picture([pane(name) for name in names]), width=180)
    rows = [next(i for i, line in enumerate(text.split("\n")) if name in line)
            for name in names]
    assert rows[0] == rows[1] == rows[2] < rows[3] == rows[4]


def test_a_small_screen_keeps_every_pane_and_the_status_line():
    names = [f"s{n}" for n in range(6)]
    text, _ = render(picture([pane(name) for name in names]), width=40, height=12)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == 12
    assert all(any(name in line for line in lines) for name in names)
    assert lines[-1].startswith("1/3: m1: ls /")


def test_a_picture_for_documents_is_only_as_tall_as_its_content():
    text, _ = render(picture([pane("m1", [LogEntry("output", "one\n")])]), fit=True)
    assert len(text.rstrip("\n").split("\n")) < 10


# ---- after a real run ----------------------------------------------------------------------
SCENARIO = """\
title: Teaching view test
about: Two processes and a watch.
session_timeout: 600ms
sessions:
  m1: Process 1 — m1.example.com
  m2: Process 2 — m2.example.com
  w: Worker
steps:
  - note: "Process 1 takes the lock"
  - m1: create -e /lock "m1"
    expect: Created /lock
  - m2: stat -w /lock
    expect: {contains: 'dataLength = 2'}
  - note: "Process 1 dies; Process 2 hears of it through its watch"
  - crash: m1
  - await: {m2: "type:NodeDeleted path:/lock", within: 10s}
  - w: create -e /worker "w"
    expect: Created /worker
  - m2: stat -w /worker
    expect: {contains: 'dataLength = 1'}
  - note: "The worker is cut off; past the session timeout its session expires"
  - partition: w
  - await: {m2: "type:NodeDeleted path:/worker", within: 10s}
  - heal: w
  - await: {w: "state:Expired", within: 10s}
  - restart: m1
  - note: "The end"
"""


@pytest.fixture(scope="module")
def played(tmp_path_factory, backend):
    """One real run of SCENARIO, on a server of its own, looked at by several tests."""
    path = tmp_path_factory.mktemp("view") / "view.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    scenario = load_scenario(str(path))
    board = Board(scenario)
    server = make_server(backend, tick_time_ms=server_for(scenario))
    server.start()
    try:
        results = Player(scenario, server.address, Fanout(board)).run()
    finally:
        server.cleanup()
    return scenario, board, results, server


def test_after_a_real_run_every_pane_shows_its_session(played):
    scenario, board, results, server = played
    assert [r.status for r in results] == [r.status for r in results if r.status == PASSED
                                           or r.step.kind not in ("type", "await")]
    text, _ = render(board.picture(), width=WIDE)  # wide enough for a prompt and command
    port = server.address.rpartition(":")[2]
    assert "Process 1 — m1.example.com" in text
    assert "Process 2 — m2.example.com" in text
    assert "Worker" in text
    assert f'[zk: 127.0.0.1:{port}(CONNECTED) 0] create -e /lock "m1"' in text
    assert "Created /lock" in text
    assert "WatchedEvent state:SyncConnected type:NodeDeleted path:/lock" in text
    assert "WatchedEvent state:Expired type:None path:null" in text
    assert "── crashed ──" in text and "── restarted ──" in text
    assert "── partitioned ──" in text and "── healed ──" in text
    assert "step 15/15 · 7 passed · 0 failed" in text.split("\n")[0]


def test_after_a_real_run_each_pane_shows_its_state_as_the_last_step_left_it(played):
    _scenario, board, _results, _server = played
    states = {p.name: p.state for p in board.picture().panes}
    # Frozen before the player closed the sessions: not "closed".
    assert states == {"m1": "connected · restarted", "m2": "connected", "w": "expired"}
    text, _ = render(board.picture())
    # Every bottom border: three panes at 120 columns are two rows of two.
    bottom = "\n".join(line for line in text.split("\n") if "╰" in line)
    assert " connected · restarted " in bottom and " expired " in bottom
    # The Closed events of the player's own closing are not part of the picture.
    assert "state:Closed" not in text


def test_after_a_real_run_the_caption_is_the_last_note_and_the_status_the_summary(played):
    _scenario, board, _results, _server = played
    text, _ = render(board.picture())
    lines = text.rstrip("\n").split("\n")
    assert lines[-2].strip() == "The end"
    assert lines[-1].startswith("15 steps, 7 checks: 7 passed, 0 failed, 0 timed out")


def test_the_pane_of_a_crashed_process_has_no_prompt(tmp_path, fresh_server):
    path = tmp_path / "crash.yaml"
    path.write_text("sessions: {m1: Process 1, m2: Process 2}\nsteps:\n"
                    "  - m1: ls /\n  - crash: m1\n", encoding="utf-8")
    scenario = load_scenario(str(path))
    board = Board(scenario)
    Player(scenario, fresh_server.address, board).run()
    panes = {p.name: p for p in board.picture().panes}
    assert panes["m1"].state.startswith("crashed · ") and panes["m1"].prompt is None
    assert panes["m2"].state == "connected" and panes["m2"].prompt.endswith("0] ")



# ---- the countdown to a silent session's expiry ----------------------------------------
def test_the_countdown_says_the_time_left_then_expiring_then_expired():
    silence = Silence(since=100.0, timeout=4.0)  # the deadline is at 104
    assert silence.describe(100.05, confirmed=False) == "expires in ~4.0s"
    assert silence.describe(100.8, confirmed=False) == "expires in ~3.2s"
    assert silence.describe(103.99, confirmed=False) == "expires in ~0.1s"  # never ~0.0s
    assert silence.describe(104.0, confirmed=False) == "expiring…"
    assert silence.describe(105.9, confirmed=False) == "expiring…"
    # Half a timeout past the deadline: the server has had the tick it expires it at.
    assert silence.describe(106.0, confirmed=False) == "expired"
    assert silence.describe(101.0, confirmed=True) == "expired"
    assert Silence(0.0, 30.0).describe(0.5, confirmed=False) == "expires in ~30s"


def test_an_ephemeral_going_elsewhere_confirms_an_expiry_only_after_its_deadline():
    silence = Silence(since=100.0, timeout=4.0)
    assert not silence.confirmed(False, False, [])
    assert not silence.confirmed(False, False, [103.9])  # another session's, before it
    assert silence.confirmed(False, False, [103.9, 104.2])
    assert silence.confirmed(True, False, [])  # an expire step ended it
    assert silence.confirmed(False, True, [])  # its own client was told Expired


def test_an_expired_session_is_red_whatever_its_process_does():
    assert state_style("partitioned · expired") == state_style("expired") == "red"
    assert state_style("partitioned · expires in ~2.0s") == "yellow"
    assert state_style("crashed · expiring…") == "red"


COUNTDOWN = """\
session_timeout: 4s
sessions: {m1: Process 1, m2: Process 2, m3: Process 3}
steps:
  - m1: create -e /master "m1"
  - m2: stat -w /master
  - crash: m1
  - partition: m3
  - note: "The server's clock runs"
  - expire: m1
  - await: {m2: "type:NodeDeleted path:/master", within: 1s}
  - note: "m1 is gone"
"""


def _seconds_left(state: str, prefix: str) -> float:
    match = re.fullmatch(re.escape(prefix) + r" · expires in ~(\d\.\d)s", state)
    assert match, state
    return float(match.group(1))


def test_a_silent_session_s_pane_counts_down_to_its_expiry_until_it_is_confirmed(tmp_path,
                                                                                  zk_server):
    path = tmp_path / "countdown.yaml"
    path.write_text(COUNTDOWN, encoding="utf-8")
    scenario = load_scenario(str(path))
    board = Board(scenario)
    seen: dict[int, list[dict[str, str]]] = {}

    def look(index, step):  # before each note, what the borders say; twice, 0.3 s apart
        if step.kind == "note":
            seen[index] = [{p.name: p.state for p in board.picture().panes}]
            time.sleep(0.3)
            seen[index].append({p.name: p.state for p in board.picture().panes})

    results = Player(scenario, zk_server.address, board).run(look)
    assert all(r.status in (PASSED, "done") for r in results), results
    first, later = seen[4]
    # The 4 s the server granted, from the last bytes it got from each: within a second.
    assert 3.0 <= _seconds_left(first["m1"], "crashed") <= 4.0
    assert 3.0 <= _seconds_left(first["m3"], "partitioned") <= 4.0
    assert _seconds_left(later["m1"], "crashed") <= _seconds_left(first["m1"], "crashed") - 0.2
    assert first["m2"] == "connected"
    # The expire step ended m1's session; m3's deadline has not come, whatever m2 saw.
    confirmed, _ = seen[7]
    assert confirmed["m1"] == "crashed · expired"
    assert _seconds_left(confirmed["m3"], "partitioned") > 1.0
    text, _ = render(board.picture())
    assert " crashed · expired " in "\n".join(line for line in text.split("\n") if "╰" in line)

# ---- four sessions on normal screens: the walkthrough ------------------------------------
WALKTHROUGH = Path(__file__).resolve().parents[1] / "scenarios" / "walkthrough.yaml"


@pytest.fixture(scope="module")
def walkthrough(backend):
    """The board of one real run of the walkthrough, whose four sessions type long lines."""
    scenario = load_scenario(str(WALKTHROUGH))
    board = Board(scenario)
    server = make_server(backend, tick_time_ms=server_for(scenario))
    server.start()
    try:
        results = Player(scenario, server.address, board).run()
    finally:
        server.cleanup()
    assert all(r.status in (PASSED, "done") for r in results)
    return board


def cells(line: str) -> list[str]:
    """A line as the terminal's cells: a wide character, then an empty cell."""
    return [part for char in line for part in ((char,) if cell_len(char) < 2 else (char, ""))]


def boxes(text: str) -> list[list[tuple[str, list[str]]]]:
    """The panes of a rendered view, row by row: each one's title and inside lines."""
    lines = [cells(line) for line in text.split("\n")]
    rows = []
    for top, line in enumerate(lines):
        row = []
        for start in [i for i, char in enumerate(line) if char == "╭"]:
            end = line.index("╮", start)
            title = "".join(line[start + 1:end]).strip("─ ").split(" ─")[0]
            bottom = next(n for n in range(top + 1, len(lines)) if lines[n][start] == "╰")
            row.append((title, ["".join(lines[n][start + 2:end - 1]).rstrip()
                                for n in range(top + 1, bottom)]))
        if row:
            rows.append(row)
    return rows


def squeeze(text: str) -> str:
    """Text without whitespace: where a line wrapped, spaces may go, nothing else."""
    return "".join(text.split())


@pytest.mark.parametrize("size, shape, whole_command", [
    ((160, 45), (2, 2), True),  # four side by side would be 38 columns each
    ((120, 40), (2, 2), True),
    # A pane a row, full width: commands beside their prompts, three lines each (a stat's
    # eleven lines do not fit: its last ones do, and the prompt).
    ((80, 24), (1, 4), False),
])
def test_four_sessions_fit_a_normal_screen(walkthrough, size, shape, whole_command):
    text, _ = render(walkthrough.picture(), *size)
    rows = boxes(text)
    assert (len(rows[0]), len(rows)) == shape
    shown = dict(box for row in rows for box in row)
    assert len(shown) == 4
    for pane in walkthrough.picture().panes:
        lines = [line for line in shown[pane.label] if line.strip()]
        # The latest lines, ending at the prompt (and its cursor), wrapped without a loss.
        assert pane.prompt and lines[-1].strip() == pane.prompt.strip()
        assert squeeze(pane_text(pane).plain).endswith(squeeze("".join(lines)))
        assert len(squeeze("".join(lines))) > len(squeeze(pane.prompt or "")) + 10
        last = next(e for e in reversed(pane.entries) if e.kind == "command")
        if whole_command:  # the last command and everything it printed
            assert squeeze(last.text) in squeeze("".join(lines))
        else:  # at least what it printed last, above the prompt
            assert len(lines) >= 3


def test_wrapping_never_loses_text():
    words = " ".join(f"word{n}" for n in range(40))
    token = "/a-very-long-path" * 12
    data = "bell\x07 escape\x1b[31m tab\there  日本語のテキスト" * 2
    entries = [LogEntry("command", f"[zk: 127.0.0.1:2181(CONNECTED) 0] get {token}",
                        prompt="[zk: 127.0.0.1:2181(CONNECTED) 0] "),
               LogEntry("output", f"{data}\n{words}\n")]
    the_pane = pane("m1", entries)
    for width in (160, 80, 50):
        text, _ = render(picture([the_pane]), width=width)
        (_title, lines), = boxes(text)[0]
        shown = [line for line in lines if line.strip()]
        # Words are wrapped whole; a token longer than the pane folds; control characters
        # are shown (^G, ^[), not sent to the terminal nor dropped.
        assert all(f"word{n}" in " ".join(shown).split() for n in range(40))
        assert squeeze(token) in squeeze("".join(shown))
        assert "bell^G escape^[[31m" in " ".join(shown)
        assert "\x1b" not in "".join(shown) and "\x07" not in "".join(shown)
        assert squeeze("".join(shown)) == squeeze(
            entries[0].text + data.replace("\x07", "^G").replace("\x1b", "^[") + words
            + the_pane.prompt)


# ---- scrolling a pane back (--step) -------------------------------------------------------
def test_a_pane_scrolled_back_shows_older_lines_and_says_how_far():
    entries = [LogEntry("output", f"line {n}\n") for n in range(100)]
    scrolled = replace(pane("m1", entries), scroll=30, selected=True)
    text, _ = render(replace(picture([scrolled]), waiting=True), height=20)
    shown = [line for (_title, lines), in boxes(text) for line in lines]
    # 101 lines with the prompt, 15 fit: the last 15 before the 30 most recent.
    assert [line.strip() for line in shown] == [f"line {n}" for n in range(56, 71)]
    assert "↑ 30 lines back" in text
    assert "▶ m1  ↑↓ PgUp PgDn Home End · Tab 1-9" in text


def test_scroll_keys_move_the_chosen_pane_no_further_than_its_text_goes(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text("sessions: [m1, m2]\nsteps:\n  - m1: ls /\n", encoding="utf-8")
    board = Board(load_scenario(str(path)), scroll_keys=True)
    board.set_waiting(0)
    board.set_scroll_room({"m1": (40, 10), "m2": (5, 10)})  # as the view last drew them

    def state():
        return [(p.scroll, p.selected) for p in board.picture().panes]

    assert state() == [(0, True), (0, False)]
    assert "[↑↓ Tab] scroll" in board.picture().status
    for move, expected in [(UP, [(1, True), (0, False)]),
                           (PAGE_UP, [(10, True), (0, False)]),  # a page keeps a line
                           (TOP, [(40, True), (0, False)]), (UP, [(40, True), (0, False)]),
                           (PAGE_DOWN, [(31, True), (0, False)]),
                           ("pane 2", [(31, False), (0, True)]),
                           (PAGE_UP, [(31, False), (5, True)]),
                           ("pane 7", [(31, False), (5, True)]),  # no such pane
                           (NEXT_PANE, [(31, True), (5, False)]),
                           (DOWN, [(30, True), (5, False)]),
                           (BOTTOM, [(0, True), (5, False)])]:
        board.scroll(move)
        assert state() == expected, move
    board.set_waiting(None)  # the next step runs: every pane back at its latest lines
    assert state() == [(0, False), (0, False)]


# ---- a failed expectation shows in its pane ----------------------------------------------
FAILING = """\
sessions: [m1, m2]
steps:
  - m1: ls /
    expect: "[workers, zookeeper]"
  - m2: get /nothing
    expect: {contains: "some data"}
  - await: {m2: "type:NodeCreated path:/never", within: 300ms}
  - m1: create /fine ""
    expect: Created /fine
"""


def test_a_failed_expectation_shows_in_its_pane_under_the_output_in_red(tmp_path,
                                                                       fresh_server):
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING, encoding="utf-8")
    scenario = load_scenario(str(path))
    board = Board(scenario)
    Player(scenario, fresh_server.address, board).run()
    m1, m2 = board.picture().panes
    m1_text = pane_text(m1)
    lines = m1_text.plain.split("\n")
    # Under the step's output, before the next step's command.
    at = lines.index("✗ expected: [workers, zookeeper]")
    assert lines[at - 1] == "[zookeeper]"
    assert lines[at + 1] == "    actual: [zookeeper]"
    assert lines[at + 2].endswith('create /fine ""')
    styles = {m1_text.plain[s.start:s.end]: str(s.style) for s in m1_text.spans}
    assert styles["✗ expected: [workers, zookeeper]"] == "bold red"
    assert "Created /fine" not in styles  # the passing step keeps its plain output
    m2_lines = pane_text(m2).plain.split("\n")
    assert "✗ expected: (contains) some data" in m2_lines
    assert "    actual: Node does not exist: /nothing" in m2_lines
    assert "✗ expected: type:NodeCreated path:/never" in m2_lines
    assert "  nothing matched within 0.3s" in m2_lines
    # Drawn in a narrow pane, the verdict wraps rather than being cut.
    text, _ = render(replace(board.picture(), panes=(m1, m2)), width=60)
    assert "✗ expected: [workers," in text and "zookeeper]" in text
    # A transcript is what zkCli's window showed: the verdicts are the player's.
    assert "✗" not in transcript_text(board.entries("m1"))


def test_a_long_verdict_keeps_a_few_lines_of_each_side():
    from zkshell.player.model import FAILED, OUTPUT_DIFFERS, StepResult
    from zkshell.player.scenario import Expectation, Step
    from zkshell.player.verdict import verdict_text

    step = Step("type", 3, "m1", "get /x", Expectation("exact", "a\nb\nc\nd\ne"))
    text = verdict_text(StepResult(step, FAILED, 0.1, "a\nB\n", OUTPUT_DIFFERS))
    assert text.split("\n") == ["✗ expected: a", "            b",
                                "            … 3 more lines", "    actual: a", "            B"]
    assert verdict_text(StepResult(step, FAILED, 0.1, "", OUTPUT_DIFFERS)).endswith(
        "    actual: (nothing)")
    # A step that could not run has no actual output: the reason instead.
    reason = "session m1 is not running (crashed); restart it first"
    assert verdict_text(StepResult(step, FAILED, 0.0, "", reason)).endswith(f"\n  {reason}")
    assert verdict_text(StepResult(step, PASSED, 0.1, "a")) == ""

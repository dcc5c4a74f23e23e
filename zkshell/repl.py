"""The interactive front end: a prompt_toolkit prompt that looks and behaves like zkCli's.

Watch notifications arrive on kazoo's thread at any moment.  While the prompt is up they
are written through `patch_stdout(raw=True)`, which prints them above the prompt and redraws
it with whatever the user had typed, so an event never breaks the line being typed; `raw`
lets the colour escapes of `TerminalSink`, the one writer of the shell's output, through
unchanged.  Between prompts (a command running) everything is written straight out, so a
command's output is complete before the next prompt is drawn.

On top of zkCli: completion (commands, flags, znode paths read in the background), syntax
highlighting, suggestions from a history kept across runs (Ctrl+R searches it), and a bottom
toolbar.  The loop itself stays thin: `build_prompt_session`, `one_iteration`, `run_repl`.

Ctrl+C on an empty line, SIGINT and SIGTERM end zksh as they end zkCli, leaving the session
open (crash.py); Ctrl+C with text on the line clears it, and Ctrl+C (SIGINT) while a command
runs stops that command only.

With the keyboard on a terminal and stdout not (`zksh | tee log`), the prompt is drawn on the
terminal itself and stdout gets only what zkCli prints, as plain text (`PipeSink`).
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import nullcontext
from typing import TextIO, Union

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.enums import DEFAULT_BUFFER
from prompt_toolkit.filters import Condition, has_focus
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import ColorDepth, Output, create_output
from prompt_toolkit.styles import Style

from zkshell import format as fmt
from zkshell import lexer, toolbar
from zkshell.completion import ZkCompleter, parent_of
from zkshell.config import Settings
from zkshell.crash import Crash, CrashOnSignals, ctrl_c, leave_open
from zkshell.history import MemoryHistory, ShellHistory, open_history
from zkshell.modes import ShellOptions, make_shell, run_script, stdin_lines
from zkshell.shell import Shell
from zkshell.sinks.pipe import PipeSink
from zkshell.sinks.terminal import TerminalSink
from zkshell.suggest import ZnodePath, suggest
from zkshell.znode_cache import ZnodeCache

History = Union[ShellHistory, MemoryHistory]
InteractiveSink = Union[TerminalSink, PipeSink]


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def color_wanted(settings: Settings, stream=None) -> bool:
    """Colour only on a terminal, and only when neither NO_COLOR nor --no-color said no."""
    return settings.color and is_terminal(sys.stdout if stream is None else stream)


def open_terminal() -> TextIO | None:
    """The keyboard's terminal, opened to draw the prompt on when stdout is not a terminal."""
    for name in _terminal_names():
        try:
            fd = os.open(name, os.O_WRONLY | os.O_NOCTTY)
        except OSError:
            continue
        stream = os.fdopen(fd, "w", encoding="utf-8", errors="replace")
        if stream.isatty():
            return stream
        stream.close()
    return None


def _terminal_names() -> Iterator[str]:
    try:
        yield os.ttyname(sys.stdin.fileno())  # where the keys come from: draw there
    except (AttributeError, ValueError, OSError):
        pass
    yield "/dev/tty"


def build_prompt_session(shell: Shell, settings: Settings, history: History,
                         cache: ZnodeCache | None, color: bool,
                         terminal: bool = True, output: Output | None = None) -> PromptSession:
    """The prompt with its helpers; `terminal`: it is drawn on one (no toolbar in a pipe);
    `output`: where to draw it (prompt_toolkit's default, stdout, when None)."""
    completer = ZkCompleter(cache, history=lambda: dict(shell.state.history))
    pasted = PastedLines()
    show_toolbar = settings.toolbar and terminal
    style = Style.from_dict({**lexer.STYLE, **toolbar.STYLE,
                             "auto-suggestion": "#888888" if color else "underline"})
    session: PromptSession = PromptSession(
        history=history,
        completer=completer,
        complete_while_typing=False,
        auto_suggest=AutoSuggestFromHistory(),
        lexer=lexer.ZkLexer(),
        style=style,
        include_default_pygments_style=False,
        color_depth=None if color else ColorDepth.MONOCHROME,
        bottom_toolbar=(lambda: toolbar.toolbar(shell)) if show_toolbar else None,
        refresh_interval=1.0 if show_toolbar else 0,
        search_ignore_case=True,
        output=output,
        key_bindings=_key_bindings(pasted),
    )
    session.pasted = pasted  # type: ignore[attr-defined]  # read by one_iteration
    if cache is not None:
        _follow_the_cache(session, completer, cache)
    return session


class PastedLines:
    """What a paste brought beyond its first line: the next prompts take it a line at a time,
    as if it was typed there, the way a terminal feeds zkCli; the unfinished last line
    (none when the paste ended with a newline) is left at its prompt to be finished."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque()

    def add(self, lines: list[str]) -> None:
        self._lines.extend(lines)

    def next_prompt(self) -> tuple[str, bool]:
        """(text the next prompt starts with, whether it is run at once)."""
        if not self._lines:
            return "", False
        line = self._lines.popleft()
        return line, bool(self._lines)  # the last one is the unfinished tail

    def clear(self) -> None:
        self._lines.clear()


@Condition
def _empty_line() -> bool:
    buffer = get_app().current_buffer
    return buffer.name == DEFAULT_BUFFER and not buffer.text


def _key_bindings(pasted: PastedLines) -> KeyBindings:
    bindings = KeyBindings()

    # Ours come after prompt_toolkit's, so this Ctrl+C wins over its KeyboardInterrupt, which
    # stays for a line with text on it (and Ctrl+C in a search still ends the search).
    @bindings.add("c-c", filter=_empty_line & has_focus(DEFAULT_BUFFER))
    def crash(event) -> None:
        event.app.exit(exception=ctrl_c(), style="class:aborting")

    @bindings.add(Keys.BracketedPaste)
    def paste(event) -> None:
        text = event.data.replace("\r\n", "\n").replace("\r", "\n")
        first, *rest = text.split("\n")
        event.current_buffer.insert_text(first)
        if rest:  # several lines: Enter after the first, the others at the next prompts
            pasted.add(rest)
            event.current_buffer.validate_and_handle()

    return bindings


def _follow_the_cache(session: PromptSession, completer: ZkCompleter,
                      cache: ZnodeCache) -> None:
    """Fetch a path's siblings while it is typed.  When fetched children change what a Tab
    offered from stale or missing ones, put the line back and complete it again."""
    buffer = session.default_buffer

    def prefetch(_buffer) -> None:
        for suggestion in suggest(buffer.document.text_before_cursor):
            if isinstance(suggestion, ZnodePath) and suggestion.prefix.startswith("/"):
                cache.want(parent_of(suggestion.prefix))

    def complete_again(path: str) -> None:  # on the prompt's event loop
        if not session.app.is_running:
            return
        document = completer.redo(path, buffer.document, buffer.complete_state is not None)
        if document is not None:
            buffer.complete_state = None  # the menu of what is gone, or lacking what came
            buffer.document = document
            buffer.start_completion(insert_common_part=True)

    def arrived(path: str) -> None:  # on the cache's thread
        app = session.app
        loop, context = app.loop, app.context
        if loop is None or context is None:
            return  # no prompt up: the next Tab reads the fresh children
        try:
            loop.call_soon_threadsafe(complete_again, path, context=context.copy())
        except RuntimeError:
            pass  # the prompt's loop has just closed

    def new_prompt(_app) -> None:
        completer.offered = None  # a Tab of the line before is nothing to redo on this one

    buffer.on_text_changed += prefetch
    session.app.on_reset += new_prompt
    cache.on_update = arrived


def one_iteration(prompt_session: PromptSession, shell: Shell, sink: InteractiveSink,
                  history: History, cache: ZnodeCache | None,
                  signals: CrashOnSignals | None = None) -> bool:
    """Read and run one line; False when the user is done (Ctrl+D).  Raises `Crash` for
    Ctrl+C on an empty line.  SIGINT is left to `signals`, not to the prompt: while the
    line runs, it stops the command."""
    pasted: PastedLines | None = getattr(prompt_session, "pasted", None)
    default, run_at_once = pasted.next_prompt() if pasted is not None else ("", False)
    try:
        with sink.above_the_prompt(prompt_session.app):
            line = prompt_session.prompt(shell.prompt, default=default,
                                         accept_default=run_at_once, handle_sigint=False)
    except KeyboardInterrupt:
        if pasted is not None:
            pasted.clear()  # Ctrl+C drops what is left of a paste too
        return True  # Ctrl+C clears the line, as in a shell
    except EOFError:
        return False
    state = shell.state
    count = state.command_count
    with signals.command_running() if signals is not None else nullcontext():
        sink.output(shell.execute(line, live=sink.chunks))
    if state.command_count > count:
        history.record(state.history.get(count, line))  # what `history` shows for it
    if cache is not None:
        cache.invalidate()
    return True


def tell_accepted_lines(prompt_session: PromptSession, signals: CrashOnSignals) -> None:
    """Have `signals` know of each accepted line as the prompt accepts it (line_accepted)."""
    accept = prompt_session.default_buffer.accept_handler

    def accepted(buffer: Buffer) -> bool:
        signals.line_accepted()
        return accept(buffer) if accept is not None else False

    prompt_session.default_buffer.accept_handler = accepted


def run_repl(options: ShellOptions) -> int:
    if is_terminal(sys.stdout):
        return _run(options, TerminalSink(color_wanted(options.settings)), None)
    terminal = open_terminal()
    if terminal is None:
        # No terminal to draw a prompt on: the typed lines are read as a script's, so that
        # stdout still gets only what the commands print.
        return run_script(options, stdin_lines())
    with terminal:
        return _run(options, PipeSink(), terminal)


def _run(options: ShellOptions, sink: InteractiveSink, terminal: TextIO | None) -> int:
    """The loop; `terminal`: where the prompt is drawn when it is not stdout."""
    settings = options.settings
    shell = make_shell(options, sink)
    history = open_history(settings.history_file, settings.history_size,
                           warn=lambda text: sys.stderr.write(text + "\n"))
    cache = ZnodeCache(shell.session)
    output = create_output(stdout=terminal) if terminal is not None else None
    prompt_session = build_prompt_session(shell, settings, history, cache, settings.color,
                                          output=output)
    crash: Crash | None = None
    try:
        with CrashOnSignals(prompt_session.app, shell.session.interrupt) as signals:
            tell_accepted_lines(prompt_session, signals)
            sink.write("out", fmt.banner(options.server, piped=False))
            shell.session.connect()
            cache.start()
            if options.wait_for_connection:
                shell.session.wait_connected(options.timeout_ms / 1000.0)
            _loop(prompt_session, shell, sink, history, cache, signals)
    except Crash as caught:
        crash = caught
    finally:
        cache.stop()
        sink.show_events = False  # `quit` has said Closed already; a crash says nothing
        if crash is not None:
            leave_open(shell.session, crash, say=lambda text: sink.write("err", text))
        elif not shell.state.quit_requested:
            shell.session.close()  # Ctrl+D
    sys.stdout.flush()
    return crash.exit_status if crash is not None else shell.exit_code


def _loop(prompt_session: PromptSession, shell: Shell, sink: InteractiveSink,
          history: History, cache: ZnodeCache, signals: CrashOnSignals) -> None:
    while not shell.state.quit_requested:
        going_on = one_iteration(prompt_session, shell, sink, history, cache, signals)
        # A signal that came as the prompt returned: the line has run (it was typed first).
        signals.raise_pending()
        if not going_on:
            break

"""The shell core shared by every front end: a line in, zkCli's output out.

`Shell.execute(line)` is what a keystroke (REPL), a script line, a one-shot command and a
scenario step all run.  It keeps zkCli's own state (`ShellState`: history, the command
number in the prompt, `printwatches`, whether `quit` was asked for) and the exit status, and
hands each watch event, as a value, to the front end's `on_event` unless printwatches is off.
"""

from __future__ import annotations

from collections.abc import Callable

from zkshell.commands import COMMANDS, Context, ShellState, help_text
from zkshell.errors import CliError, CommandNotFound, NotConnected
from zkshell.exit_status import ExitStatus
from zkshell.interrupt import Interrupted
from zkshell.output import USAGE, Chunk, Output
from zkshell.session import Session, SessionEvent
from zkshell.tokenizer import split_line

EventConsumer = Callable[[SessionEvent], None]
LiveOutput = Callable[[list[Chunk]], None]


class Shell:
    def __init__(self, session: Session, on_event: EventConsumer | None = None) -> None:
        self.session = session
        self.on_event: EventConsumer = on_event or (lambda event: None)
        self.state = ShellState()
        self.exit_code = 0
        # What the prompt names as the server (a scenario's sessions go through a proxy).
        self.display_server: str | None = None
        session.sink = self.handle_event

    # ---- events --------------------------------------------------------------------
    def handle_event(self, event: SessionEvent) -> None:
        """Called on kazoo's thread for every event; zkCli prints it unless printwatches off."""
        if self.state.print_watches:
            self.on_event(event)

    # ---- prompt --------------------------------------------------------------------
    def prompt(self) -> str:
        server = self.display_server or self.session.server
        return f"[zk: {server}({self.session.state_name}) {self.state.command_count}] "

    # ---- commands ------------------------------------------------------------------
    def execute(self, line: str, live: LiveOutput | None = None) -> Output:
        """Run one typed line, as zkCli's executeLine: empty lines are not counted.

        With `live`, what the command prints is handed to it while the command runs (see
        Output.live), and the Output returned holds nothing more to show."""
        if line == "":
            return Output()
        state = self.state
        state.history[state.command_count] = line
        output = self.run_words(split_line(line), live)
        state.command_count += 1
        return output

    def run_words(self, words: list[str], live: LiveOutput | None = None) -> Output:
        """Run already-split words (one-shot mode passes argv here, unsplit by zkCli)."""
        output = Output(live=live)
        try:
            self._process(words, output)
        except Interrupted as stop:  # only the REPL asks for stops (interrupt.py)
            output.drop_held()
            output.err(stop.message)
            output.exit_code = ExitStatus.INTERRUPTED
        finally:
            output.flush()
        if self.state.quit_requested:
            # zkCli's quit exits with the status of the command before it.
            output.exit_code = self.exit_code
        self.exit_code = output.exit_code
        return output

    def _process(self, words: list[str], output: Output) -> None:
        """Run words into `output`, as zkCli's processCmd (`redo` runs one inside another)."""
        try:
            self._dispatch(words, output)
            output.exit_code = 0
        except CliError as error:
            output.err(f"{error}\n")
            output.exit_code = error.exit_code
        except NotConnected as exc:
            output.out(exc.text + "\n")

    def _dispatch(self, words: list[str], output: Output) -> None:
        if not words:
            output.err(help_text(), USAGE)
            raise CliError("No command entered")
        name = words[0]
        entry = COMMANDS.get(name)
        if entry is None:
            output.err(help_text(), USAGE)
            raise CommandNotFound(name)
        context = Context(self.session, self.state, output, entry, self._process)
        if entry.shell_level and entry.handler is not None:
            entry.handler(context, words)
            if self.state.quit_requested:
                return
        # Like zkCli, everything below needs a live session, the shell's own commands too.
        if not self.session.alive:
            raise NotConnected()
        if not entry.shell_level and entry.handler is not None:
            entry.handler(context, words)

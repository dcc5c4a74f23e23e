"""Several observers of one run (a view, a recorder, a report), told in a fixed order."""

from __future__ import annotations

from zkshell.player.model import Observer


class Fanout(Observer):
    """Tells each observer in turn; order matters (a cast marker before the typing starts)."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = [observer for observer in observers if observer is not None]

    def scenario_started(self, player) -> None:
        for observer in self.observers:
            observer.scenario_started(player)

    def step_started(self, player, index, step) -> None:
        for observer in self.observers:
            observer.step_started(player, index, step)

    def step_finished(self, player, index, result) -> None:
        for observer in self.observers:
            observer.step_finished(player, index, result)

    def entry_added(self, session, entry) -> None:
        for observer in self.observers:
            observer.entry_added(session, entry)

    def closing(self, player) -> None:
        for observer in self.observers:
            observer.closing(player)

    def scenario_finished(self, player, results) -> None:
        for observer in self.observers:
            observer.scenario_finished(player, results)

"""Per-command option parsing with the rules of commons-cli's DefaultParser, which zkCli uses.

What users rely on: flags anywhere (`ls / -w`), combined flags (`create -es`), attached values
(`-t100`), `--` ending the flags, negative numbers as values (`set -v -1`), and the same
error texts (without the Java class names zkCli prints in front of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class OptionError(Exception):
    """A command line the option rules reject; the message is what the user sees."""


@dataclass(frozen=True)
class Flag:
    name: str
    takes_value: bool = False
    description: str = ""
    value_name: str = ""  # as the usage line names the value: `version` in `[-v version]`
    choices: tuple[str, ...] = ()  # the values there are, where there are few


@dataclass(frozen=True)
class OptionSpec:
    """The flags of one command; `exclusive` flags form a commons-cli option group."""

    flags: tuple[Flag, ...] = ()
    exclusive: bool = False
    group_required: bool = False

    def get(self, name: str) -> Flag | None:
        for flag in self.flags:
            if flag.name == name:
                return flag
        return None


@dataclass
class Parsed:
    """The words that are not flags (`args[0]` is the command name) and the flags given."""

    args: list[str]
    values: dict[str, str | None] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.values

    def value(self, name: str) -> str | None:
        return self.values.get(name)


def _is_negative_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return token.startswith("-")


class _Parser:
    def __init__(self, spec: OptionSpec) -> None:
        self.spec = spec
        self.parsed = Parsed(args=[])
        self.pending: Flag | None = None
        self.pending_has_value = False
        self.selected_in_group: Flag | None = None

    def _is_option_token(self, token: str) -> bool:
        if not token.startswith("-") or len(token) == 1:
            return False
        name = token[1:].split("=", 1)[0]
        return bool(name) and (self.spec.get(name) is not None
                               or self.spec.get(name[0]) is not None)

    def _finish_pending(self) -> None:
        if self.pending is not None and not self.pending_has_value:
            raise OptionError(f"Missing argument for option: {self.pending.name}")
        self.pending = None

    def _select(self, flag: Flag) -> None:
        self._finish_pending()
        if self.spec.exclusive:
            chosen = self.selected_in_group
            if chosen is not None and chosen.name != flag.name:
                raise OptionError(
                    f"The option '{flag.name}' was specified but an option from this group "
                    f"has already been selected: '{chosen.name}'")
            self.selected_in_group = flag
        if flag.name not in self.parsed.values:
            self.parsed.values[flag.name] = None
        if flag.takes_value:
            self.pending = flag
            self.pending_has_value = False

    def _give_value(self, value: str) -> None:
        assert self.pending is not None
        if self.parsed.values.get(self.pending.name) is None:
            self.parsed.values[self.pending.name] = value
        self.pending_has_value = True
        self.pending = None

    def _unknown(self, token: str) -> None:
        if token.startswith("-") and len(token) > 1:
            raise OptionError(f"Unrecognized option: {token}")
        self.parsed.args.append(token)

    def _short(self, token: str) -> None:
        body = token[1:]
        if "=" in body:
            name, value = body.split("=", 1)
            flag = self.spec.get(name)
            if flag is not None:
                self._select(flag)
                if flag.takes_value:
                    self._give_value(value)
                return
            flag = self.spec.get(name[0])
            if flag is not None and flag.takes_value:
                self._select(flag)
                self._give_value(body[1:])
                return
            self._unknown(token)
            return
        flag = self.spec.get(body)
        if flag is not None:
            self._select(flag)
            return
        if len(body) == 1:
            self._unknown(token)
            return
        self._concatenated(token)

    def _concatenated(self, token: str) -> None:
        for i in range(1, len(token)):
            flag = self.spec.get(token[i])
            if flag is None:
                self._unknown(token)
                return
            self._select(flag)
            if flag.takes_value and i + 1 < len(token):
                self._give_value(token[i + 1:])
                return

    def parse(self, words: list[str]) -> Parsed:
        only_args = False
        for token in words:
            if only_args:
                self.parsed.args.append(token)
            elif token == "--":
                only_args = True
            elif (self.pending is not None and not self.pending_has_value
                  and (not self._is_option_token(token) or _is_negative_number(token))):
                self._give_value(token)
            elif token.startswith("-") and token != "-":
                self._short(token)
            else:
                self._unknown(token)
            if self.pending is not None and self.pending_has_value:
                self.pending = None
        self._finish_pending()
        if self.spec.group_required and self.selected_in_group is None:
            listed = ", ".join(f"-{f.name} {f.description}" for f in self.spec.flags)
            raise OptionError(f"Missing required option: [{listed}]")
        return self.parsed


def parse_options(spec: OptionSpec, words: list[str]) -> Parsed:
    """Parse a command's words (the command name first) as zkCli's commons-cli parser would."""
    return _Parser(spec).parse(words)

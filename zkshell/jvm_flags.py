"""The Java system properties zkCli.sh hands its JVM: `-Dkey=value` in CLIENT_JVMFLAGS and
JVMFLAGS.

zkCli.sh runs `java ... $CLIENT_JVMFLAGS $JVMFLAGS ZooKeeperMain`: both variables expanded
unquoted, so the shell splits them at white space and removes no quotes (`-Dx="a b"` is two
words, the first `-Dx="a`).  Python's str.split() splits the same way; shlex would not.  The
JVM takes the last `-D` of a key, so JVMFLAGS wins over CLIENT_JVMFLAGS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

VARIABLES = ("CLIENT_JVMFLAGS", "JVMFLAGS")  # in zkCli.sh's order: the later one wins


@dataclass(frozen=True)
class SystemProperty:
    key: str
    value: str
    variable: str  # the environment variable that set it

    @property
    def flag(self) -> str:
        return f"{self.variable}: -D{self.key}={self.value}"


def system_properties(environ: Mapping[str, str]) -> dict[str, SystemProperty]:
    """Each key's value as the JVM would have it (-Dkey alone is the empty string)."""
    found: dict[str, SystemProperty] = {}
    for variable in VARIABLES:
        for word in environ.get(variable, "").split():
            if not word.startswith("-D") or len(word) == 2:
                continue  # -Xmx512m and the like: nothing for the client to read
            key, _equals, value = word[2:].partition("=")
            found[key] = SystemProperty(key, value, variable)
    return found

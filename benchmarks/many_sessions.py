"""Issue 15's many-session scenario, generated: N sessions check in with an ephemeral under
`/group` and watch it, then one change by the boss notifies them all.

    python benchmarks/many_sessions.py 200 > /tmp/group.yaml && zksh play --check /tmp/group.yaml
"""

from __future__ import annotations

import sys

NOTIFIED = "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/group"


def group_scenario(sessions: int, within: str = "30s") -> str:
    """The scenario's YAML text: sessions s0..s{N-1} and a boss."""
    names = [f"s{number}" for number in range(sessions)]
    lines = [
        f"title: {sessions} sessions watch one group",
        "session_timeout: 4s",
        "sessions: [boss, " + ", ".join(names) + "]",
        "steps:",
        "  - boss: create /group \"\"",
        "    expect: Created /group",
    ]
    for name in names:
        lines += [f"  - {name}: create -e /group/{name} \"\"",
                  f"    expect: Created /group/{name}"]
    for name in names:
        lines += [f"  - {name}: ls -w /group"]
    lines += ["  - boss: create /group/go \"\"", "    expect: Created /group/go"]
    lines += [f"  - await: {{{name}: \"{NOTIFIED}\", within: {within}}}" for name in names]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(group_scenario(int(sys.argv[1]) if len(sys.argv) > 1 else 200))

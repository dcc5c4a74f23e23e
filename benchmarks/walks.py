"""A quick side-by-side of zksh's and zkCli's subtree walks on one real ZooKeeper.

    PYTHONPATH=. python benchmarks/walks.py [folders] [per_folder]

Builds /walks (folders x per_folder znodes, by multi creates), then times `ls -R`,
`setAcl -R` and `deleteall` in both, one-shot, and checks their `ls -R` outputs are equal.
"""

from __future__ import annotations

import subprocess
import sys
import time

from kazoo.client import KazooClient

from zkshell.server import LocalServer, zkcli_command, zkcli_env

ROOT = "/walks"


def build(client: KazooClient, folders: int, per_folder: int) -> None:
    client.ensure_path(ROOT)
    for f in range(folders):
        txn = client.transaction()
        txn.create(f"{ROOT}/f{f}")
        for n in range(per_folder):
            txn.create(f"{ROOT}/f{f}/n{n}")
        txn.commit()


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=zkcli_env(), check=False)
    return time.monotonic() - start, done.stdout


def zksh(address: str, command: str) -> list[str]:
    return [sys.executable, "-m", "zkshell", "-server", address, *command.split()]


def zkcli(address: str, command: str) -> list[str]:
    return zkcli_command(address, *command.split())


def main() -> None:
    folders = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    per_folder = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with LocalServer() as server:
        client = KazooClient(hosts=server.address)
        client.start()
        try:
            for name, command in (("ls -R", f"ls -R {ROOT}"),
                                  ("setAcl -R", f"setAcl -R {ROOT} world:anyone:cdrwa"),
                                  ("deleteall", f"deleteall {ROOT}")):
                times = {}
                outputs = {}
                for tool, argv in (("zkCli", zkcli), ("zksh", zksh)):
                    if name == "deleteall" or not client.exists(ROOT):
                        build(client, folders, per_folder)
                    times[tool], outputs[tool] = timed(argv(server.address, command))
                    if name == "deleteall" and client.exists(ROOT):
                        raise SystemExit(f"{tool}'s deleteall left {ROOT}")
                same = "" if name != "ls -R" else (
                    " same output" if _body(outputs["zksh"]) == _body(outputs["zkCli"])
                    else " OUTPUT DIFFERS")
                print(f"{name:10} zkCli {times['zkCli']:.2f}s  zksh {times['zksh']:.2f}s  "
                      f"{times['zkCli'] / times['zksh']:.1f}x{same}", flush=True)
        finally:
            client.stop()
            client.close()


def _body(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(ROOT)]


if __name__ == "__main__":
    main()

"""An embedded ZooKeeper 3.8 server: pure Python, asyncio, in memory, one node.

It speaks ZooKeeper's wire protocol, so kazoo, zksh and the real zkCli.sh connect to it.
It imports nothing from zksh's client side and nothing outside the standard library.
"""

from zkshell.embedded.server import EmbeddedServer

__all__ = ["EmbeddedServer"]

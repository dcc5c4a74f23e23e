"""zksh: a ZooKeeper shell with zkCli's exact output, and a scenario player for teaching."""

__version__ = "0.1.0"

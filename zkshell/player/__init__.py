"""`zksh play`: scenario files that drive several shell sessions against one ZooKeeper."""

"""A quota command that fails on a quota node names that node, as zkCli's KeeperException
does (issue 14, defect 5): `delquota -N /fz` after AuthFailed, or on a limits node it may not
read, says `... /zookeeper/quota/fz/zookeeper_limits`, not `... /fz`."""

from __future__ import annotations

import uuid

from zkshell.errors import AUTH_FAILED, RequestFailed
from zkshell.session import Session
from zkshell.shell import Shell


def test_a_quota_node_that_may_not_be_read_is_named_in_the_error(chroot_address):
    shell = Shell(Session(chroot_address, 4000), lambda event: None)
    shell.session.connect()
    name = f"/fz{uuid.uuid4().hex[:8]}"
    limits = f"/zookeeper/quota{name}/zookeeper_limits"
    try:
        assert shell.session.wait_connected(10)
        for line in (f"create {name}", f"setquota -N 5 {name}",
                     f"setAcl {limits} world:anyone:cdwa"):
            assert shell.execute(line).exit_code == 0
        # Real zkCli.sh prints exactly these (checked on ZooKeeper 3.8).
        assert shell.execute(f"delquota -N {name}").text("err") == (
            f"Insufficient permission : {limits}\n")
        assert shell.execute(f"delquota {name}").text("err") == (
            f"Insufficient permission : {limits}\n")
        assert shell.execute(f"listquota {name}").text("err") == (
            f"absolute path is {limits}\nInsufficient permission : {limits}\n")
    finally:
        shell.execute(f"setAcl {limits} world:anyone:cdrwa")  # the fixture's cleanup reads it
        shell.session.close()


class _RefusedSession(Session):
    """A session the server ended as AuthFailed while a request was waiting."""

    alive = True

    def call(self, request: object, submit: object = None) -> object:
        raise RequestFailed(AUTH_FAILED)

    def server_path(self, path: str) -> str:
        return path


def test_delquota_after_auth_failed_names_the_limits_node():
    shell = Shell(_RefusedSession("127.0.0.1:1"), lambda event: None)
    assert shell.execute("delquota -N /fz").text("err") == (
        "KeeperErrorCode = AuthFailed for /zookeeper/quota/fz/zookeeper_limits\n")

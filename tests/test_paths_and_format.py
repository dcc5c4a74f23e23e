import pytest
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL, Id

from zkshell import format as fmt
from zkshell.paths import InvalidPath, validate_path


@pytest.mark.parametrize("path,message", [
    ("nope", "Path must start with / character"),
    ("/a/", "Path must not end with / character"),
    ("//", "Path must not end with / character"),
    ("/app//x", 'Invalid path string "/app//x" caused by empty node name specified @5'),
    ("/app/.", 'Invalid path string "/app/." caused by relative paths not allowed @5'),
    ("/app/..", 'Invalid path string "/app/.." caused by relative paths not allowed @6'),
])
def test_invalid_paths_get_zookeepers_words(path, message):
    with pytest.raises(InvalidPath) as info:
        validate_path(path)
    assert str(info.value) == message


def test_valid_paths():
    for path in ("/", "/a", "/a/b.c", "/a/..b"):
        validate_path(path)
    validate_path("/app/", sequential=True)


def test_stat_block_is_zkclis():
    stat = ZnodeStat(czxid=0x29, mzxid=0x29, ctime=1593269267000, mtime=1593269267000,
                     version=0, cversion=0, aversion=0, ephemeralOwner=0x100000034F70004,
                     dataLength=14, numChildren=0, pzxid=0x29)
    assert fmt.stat_block(stat) == (
        "cZxid = 0x29\nctime = Sat Jun 27 14:47:47 UTC 2020\nmZxid = 0x29\n"
        "mtime = Sat Jun 27 14:47:47 UTC 2020\npZxid = 0x29\ncversion = 0\n"
        "dataVersion = 0\naclVersion = 0\nephemeralOwner = 0x100000034f70004\n"
        "dataLength = 14\nnumChildren = 0\n")


def test_hex_of_negative_is_twos_complement():
    assert fmt.java_hex(-1) == "0xffffffffffffffff"


def test_acl_lines_and_lists():
    acls = [ACL(31, Id("world", "anyone")), ACL(3, Id("ip", "127.0.0.1"))]
    assert fmt.acl_lines(acls) == "'world,'anyone\n: cdrwa\n'ip,'127.0.0.1\n: rw\n"
    assert fmt.child_list(["workers", "assign", "tasks"]) == "[assign, tasks, workers]\n"
    assert fmt.child_list([]) == "[]\n"


def test_watcher_block():
    assert fmt.watcher_block("SyncConnected", "NodeDeleted", "/master") == (
        "\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDeleted path:/master\n")
    assert fmt.decode_data(None) == "null"
    assert fmt.decode_data(b"\xff") == "\ufffd"

"""An FTP server with a writable and a read-only user, for the upload error tests
(pyftpdlib).

Usage: python3 ftp_users.py ROOT PASSWORD [UPLOAD_BYTES_PER_SECOND]

Serves ROOT on 127.0.0.1, on a port the system picks, to two users with PASSWORD:
`writer` (full rights) and `reader` (may list and download only). With
UPLOAD_BYTES_PER_SECOND, uploads are throttled to that rate (so a test can act while one
runs). Prints the port on a line of its own, then `storing NAME` as each upload begins,
and serves until killed or until its stdin closes (so it never outlives the test that
started it).
"""

import logging
import os
import sys
import threading

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.servers import FTPServer


def main():
    root, password = sys.argv[1:3]
    logging.basicConfig(level=logging.WARNING)
    authorizer = DummyAuthorizer()
    authorizer.add_user("writer", password, root, perm="elradfmwMT")
    authorizer.add_user("reader", password, root, perm="elr")
    class Handler(FTPHandler):
        def ftp_STOR(self, file, mode="w"):
            print("storing " + os.path.basename(file), flush=True)
            return super().ftp_STOR(file, mode)

    handler = Handler
    handler.authorizer = authorizer
    if len(sys.argv) > 3:
        dtp = ThrottledDTPHandler
        dtp.read_limit = int(sys.argv[3])
        handler.dtp_handler = dtp
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    print(port, flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A real SMTP server for entrywatch's mail tests (aiosmtpd), on 127.0.0.1 only.

Each accepted message is saved as <dir>/<n>.json: {"mail_from", "rcpt_tos", "data"}
(written to a temporary name, then renamed). Prints READY once listening; stops on
SIGTERM/SIGINT or when stdin closes.

  smtp_server.py --port P --dir D [--starttls CERT KEY | --tls CERT KEY]
                 [--auth USER:PASSWORD] [--reply "550 5.7.1 refused"]
"""
import argparse
import json
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, folder, reply):
        self.folder = folder
        self.reply = reply
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        with self.lock:
            self.n += 1
            n = self.n
        data = envelope.original_content or envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        rec = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "data": data}
        tmp = os.path.join(self.folder, ".%d.tmp" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(self.folder, "%04d.json" % n))
        return "250 2.0.0 OK saved"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth", metavar="USER:PASSWORD")
    ap.add_argument("--reply", help="answer DATA with this reply instead of accepting")
    a = ap.parse_args()
    # Refused handshakes and logins are expected in the tests: keep stderr quiet.
    if not os.environ.get("SMTP_TEST_VERBOSE"):
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        warnings.simplefilter("ignore")
    os.makedirs(a.dir, exist_ok=True)
    kw = {}
    if a.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.starttls[0], a.starttls[1])
        kw["tls_context"] = ctx
        kw["require_starttls"] = True
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kw["ssl_context"] = ctx
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()
            )
            # handled=False: aiosmtpd itself answers 535 on failure (handled=True would say nothing).
            return AuthResult(success=ok, handled=False)

        kw["authenticator"] = authenticator
        kw["auth_required"] = True
        # Plain-text AUTH is refused unless the session is encrypted (aiosmtpd's default).
        kw["auth_require_tls"] = True
    ctl = Controller(Saver(a.dir, a.reply), hostname="127.0.0.1", port=a.port, **kw)
    ctl.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        try:
            sys.stdin.read()
        finally:
            stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("READY", flush=True)
    stop.wait()
    ctl.stop()


if __name__ == "__main__":
    main()

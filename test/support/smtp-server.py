"""A real SMTP server for the transport tests (Debian's python3-aiosmtpd): it records each message it
accepts as one JSON line (envelope sender and recipients, Message-ID, Subject) in a file, and refuses
the recipients named with a 550, as a mail server refuses an unknown user.

    /usr/bin/python3 smtp-server.py <port> <messages.jsonl> [<refused@a,refused@b>]

Prints `ready` once it listens on 127.0.0.1:<port>; stops on SIGTERM or SIGINT.
"""
import json
import signal
import sys
import threading
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

port = int(sys.argv[1])
out = open(sys.argv[2], "a", encoding="utf-8")
refused = set(a for a in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if a)
lock = threading.Lock()


class Recorder:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        line = json.dumps(
            {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "messageId": headers.get("Message-ID"),
                "subject": headers.get("Subject"),
                "fromHeader": headers.get("From"),
            }
        )
        with lock:
            out.write(line + "\n")
            out.flush()
        return "250 2.0.0 Ok: queued"


controller = Controller(Recorder(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
while not stop.wait(0.5):
    pass
controller.stop()
out.close()

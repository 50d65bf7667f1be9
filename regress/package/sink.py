#!/usr/bin/python3
"""A mail sink for the package tests, on aiosmtpd.

  sink.py DIR

listens on a free port of 127.0.0.1, writes that port to DIR/port once it
listens, and stores each mail it accepts as DIR/NNNN.json:
{"from": ..., "to": [...], "data": "..."}.  It runs until it is killed.
"""
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        rec = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
               "data": envelope.content.decode("utf-8", "replace")}
        path = os.path.join(self.outdir, "%04d.json" % self.n)
        with open(path + ".tmp", "w") as f:
            json.dump(rec, f)
        os.rename(path + ".tmp", path)
        return "250 OK stored"


async def main(outdir):
    loop = asyncio.get_running_loop()
    sink = Sink(outdir)
    srv = await loop.create_server(
        lambda: SMTP(sink, hostname="sink.test"), "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    tmp = os.path.join(outdir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, os.path.join(outdir, "port"))
    await srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: sink.py DIR\n")
        sys.exit(64)
    asyncio.run(main(sys.argv[1]))

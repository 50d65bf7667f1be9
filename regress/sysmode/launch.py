#!/usr/bin/python3
"""Run a program as a user, in a hostile state the user could set up.

usage: launch.py USER [--itimer] [--ignore-chld] [--block-term]
                 [--umask0] [--fsize1] [--nofile8] [--close012]
                 [--extra-fds] [--core] [--hostile DIR] -- PROGRAM ARGS...

The environment is passed as it is; --hostile DIR adds, for the program
alone, every variable that names a file a library or the loader would
read, each pointing into DIR.
"""

import os
import pwd
import resource
import signal
import sys


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    user, opts, prog = argv[0], argv[1:sep], argv[sep + 1:]
    pw = pwd.getpwnam(user)
    os.setgroups([])
    os.setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid)
    os.setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid)
    if "--core" in opts:
        resource.setrlimit(resource.RLIMIT_CORE,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    if "--ignore-chld" in opts:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    if "--block-term" in opts:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    if "--umask0" in opts:
        os.umask(0)
    if "--fsize1" in opts:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    if "--extra-fds" in opts:
        for fd in (7, 9, 33):
            os.dup2(os.open("/etc/passwd", os.O_RDONLY), fd)
            os.set_inheritable(fd, True)
    if "--itimer" in opts:
        # Fires while postern runs, unless it clears its timers.
        signal.setitimer(signal.ITIMER_REAL, 0.3, 0.3)
    if "--nofile8" in opts:
        resource.setrlimit(resource.RLIMIT_NOFILE, (8, 8))
    if "--close012" in opts:
        for fd in (0, 1, 2):
            os.close(fd)
    if "--hostile" in opts:
        d = opts[opts.index("--hostile") + 1]
        for var, name in (("OPENSSL_CONF", "openssl.cnf"),
                          ("OPENSSL_MODULES", "ossl-modules"),
                          ("SSL_CERT_FILE", "cert.pem"),
                          ("SSL_CERT_DIR", "certs"),
                          ("SASL_PATH", "sasl"),
                          ("SASL_CONF_PATH", "saslconf"),
                          ("KRB5_CONFIG", "krb5.conf"),
                          ("KRB5CCNAME", "FILE:" + d + "/ccache"),
                          ("HOME", ""), ("TMPDIR", ""),
                          ("TZ", "tz"), ("LOCPATH", "loc"),
                          ("GCONV_PATH", "gconv"),
                          ("NETRC", "netrc"),
                          ("XDG_CONFIG_HOME", "xdg"),
                          ("LD_PRELOAD", "evil.so"),
                          ("LD_LIBRARY_PATH", "lib"),
                          ("LD_AUDIT", "audit.so")):
            os.environ[var] = name if name.startswith("FILE:") else \
                os.path.join(d, name) if name else d
    os.execv(prog[0], prog)


if __name__ == "__main__":
    main()

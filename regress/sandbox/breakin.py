"""Make a process that waits in a system call call openat(2) instead.

Stop it with ptrace, point its instruction pointer back at the syscall
instruction it came from, and resume it with openat's number: a seccomp
filter that does not allow openat kills it with SIGSYS.
"""
import ctypes
import os

PTRACE_PEEKTEXT, PTRACE_GETREGS, PTRACE_SETREGS = 1, 12, 13
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
# x86-64's struct user_regs_struct.
REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi "
        "orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()
SYS_OPENAT = 257
AT_FDCWD = -100


class Regs(ctypes.Structure):
    _fields_ = [(r, ctypes.c_ulonglong) for r in REGS]


def break_sandbox(pid):
    """Returns None, or why it could not be done."""
    if os.uname().machine != "x86_64":
        return "not x86-64"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                            ctypes.c_void_p]
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == -1:
        return "PTRACE_ATTACH: %s" % os.strerror(ctypes.get_errno())
    try:
        # Not our child: __WALL waits for a traced process all the same.
        _, st = os.waitpid(pid, 0x40000000)
        if not os.WIFSTOPPED(st):
            return "not stopped: %r" % st
        regs = Regs()
        if libc.ptrace(PTRACE_GETREGS, pid, None, ctypes.byref(regs)) == -1:
            return "PTRACE_GETREGS: %s" % os.strerror(ctypes.get_errno())
        ctypes.set_errno(0)
        word = libc.ptrace(PTRACE_PEEKTEXT, pid, regs.rip - 2, None)
        if ctypes.get_errno() != 0 or word & 0xffff != 0x050f:
            return "not stopped just after a syscall instruction"
        # openat is refused by its number before its arguments are
        # read: the path need not point anywhere.
        regs.rip -= 2
        regs.rax = SYS_OPENAT
        regs.orig_rax = ctypes.c_ulonglong(-1).value  # no restart
        regs.rdi = ctypes.c_ulonglong(AT_FDCWD).value
        regs.rsi = 0
        regs.rdx = 0
        if libc.ptrace(PTRACE_SETREGS, pid, None, ctypes.byref(regs)) == -1:
            return "PTRACE_SETREGS: %s" % os.strerror(ctypes.get_errno())
    finally:
        libc.ptrace(PTRACE_DETACH, pid, None, None)
    return None

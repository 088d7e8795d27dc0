"""`python -m autograd_nn.distributed.run -n N script.py args...`: a thin front end over `mpirun`.

For users who do not know MPI: it finds `mpirun`, adds the flags this machine needs (running as
root, more processes than cores), lets the ranks share the cores instead of pinning them
(`--bind-to none`; each rank then takes its share of threads, see `threads.py`), forwards the
Python environment to other machines (`--hostfile`), and reports a failed job in one line after
MPI's own messages. `-m module` runs a module, as `python -m` does. `--timeout` ends a job that runs
longer. Anything after `--mpirun-args` up to the script goes to `mpirun` unchanged.

    python -m autograd_nn.distributed.run -n 4 train.py --epochs 10
    python -m autograd_nn.distributed.run -n 8 --hostfile hosts train.py
    python -m autograd_nn.distributed.run -n 2 -m autograd_nn --example cnn
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys

# Environment variables every rank needs, also on other machines (mpirun -x forwards them).
FORWARDED = (
    "PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "LD_LIBRARY_PATH",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMBA_CACHE_DIR",
)

# Set by the MPI launchers in every process they start: how many processes the job has.
WORLD_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")


def world_size_from_environment() -> int:
    """The job's size when this process was started by mpirun (0 when it was not)."""
    for name in WORLD_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 0


def mpirun_command(
    nproc: int, program: list[str], hostfile: str | None = None, extra: list[str] | None = None
) -> list[str]:
    """The mpirun command line that starts `program` (argv after `python`) on `nproc` ranks."""
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise FileNotFoundError(
            "mpirun not found: install an MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) "
            "and mpi4py (pip install 'autograd-nn[distributed]'), or run "
            "`bash scripts/install.sh distributed`"
        )
    extra = list(extra or [])
    cmd = [mpirun, "-n", str(nproc)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")  # Open MPI refuses root unless told (containers run as root)
    if hostfile is None and nproc > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")  # more ranks than cores on this machine: allowed, just slower
    if hostfile is not None:
        cmd += ["--hostfile", hostfile]
    if "--bind-to" not in extra:
        cmd += ["--bind-to", "none"]
    for name in FORWARDED:
        if name in os.environ:
            cmd += ["-x", name]
    return cmd + extra + [sys.executable] + program


def launch(
    nproc: int,
    program: list[str],
    hostfile: str | None = None,
    extra: list[str] | None = None,
    timeout: float | None = None,
) -> int:
    """Run `program` on `nproc` ranks and wait; returns mpirun's exit status (124 on timeout)."""
    cmd = mpirun_command(nproc, program, hostfile, extra)
    proc = subprocess.Popen(cmd)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # mpirun passes it on to every rank
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(
            f"autograd_nn.distributed.run: the job ran longer than --timeout {timeout:g} s and was stopped",
            file=sys.stderr,
        )
        return 124
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()
    if code != 0:
        print(
            f"autograd_nn.distributed.run: the job failed (mpirun exit status {code}); the "
            "failing rank's message is above",
            file=sys.stderr,
        )
    return code


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """(launcher options, program): the program starts at the first word that is not an option of
    ours, or with `-m module`, so the program's own options are never parsed here."""
    with_value = {"-n", "--nproc", "--hostfile", "--timeout", "--mpirun-args"}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "-m":
            return argv[:i], argv[i:]
        if word in with_value:
            i += 2
        elif (
            word.split("=")[0] in with_value
            or word in ("-h", "--help")
            or (word.startswith("-n") and word[2:].isdigit())
        ):  # --timeout=5, -n4
            i += 1
        else:
            return argv[:i], argv[i:]
    return argv, []


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    options, program = split_argv(argv)
    p = argparse.ArgumentParser(
        prog="python -m autograd_nn.distributed.run",
        description=__doc__.splitlines()[0],
        usage="%(prog)s -n N [options] (script.py | -m module) [args ...]",
    )
    p.add_argument("-n", "--nproc", type=int, required=True, help="number of processes (ranks)")
    p.add_argument("--hostfile", help="machines to run on (Open MPI hostfile: 'host slots=N' lines)")
    p.add_argument("--timeout", type=float, default=None, help="stop the job after this many seconds")
    p.add_argument("--mpirun-args", default="", help="extra arguments for mpirun, as one string")
    args = p.parse_args(options)
    if args.nproc < 1:
        p.error("-n must be at least 1")
    if not program or program == ["-m"]:
        p.error("give a script to run (or -m module) after the options")
    return args, program


def main(argv: list[str] | None = None) -> int:
    args, program = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return launch(args.nproc, program, args.hostfile, args.mpirun_args.split(), args.timeout)
    except FileNotFoundError as err:
        print(f"autograd_nn.distributed.run: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

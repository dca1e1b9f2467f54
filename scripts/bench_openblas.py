#!/usr/bin/python3
"""Time numpy float32 a @ b (Debian's OpenBLAS) and print one JSON line of GFLOP/s.

    /usr/bin/python3 scripts/bench_openblas.py --m 1024 --n 1024 --k 1024 --threads 2

The thread count must be fixed before numpy loads OpenBLAS, so it is set in the
environment first (and through threadpoolctl as well when that is importable).
"""
import argparse
import json
import os
import sys
import time


def blas_library():
    """Names the BLAS shared object numpy actually loaded, from this process's mappings."""
    try:
        with open("/proc/self/maps") as f:
            libs = {os.path.basename(os.path.realpath(line.split()[-1]))
                    for line in f if "blas" in line.lower() and "lapack" not in line.lower()}
        named = sorted(x for x in libs if "openblas" in x) or sorted(libs)
        return ", ".join(named) or "unknown BLAS"
    except OSError:
        return "unknown BLAS"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--m", type=int, default=1024)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--k", type=int, default=1024)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--reps", type=int, default=0, help="timed reps (default: about 1 s of work)")
    p.add_argument("--stat", choices=["best", "median"], default="best")
    args = p.parse_args()

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        pass

    rng = np.random.default_rng(1)
    a = rng.standard_normal((args.m, args.k), dtype=np.float32)
    b = rng.standard_normal((args.k, args.n), dtype=np.float32)
    c = np.empty((args.m, args.n), dtype=np.float32)
    flops = 2.0 * args.m * args.n * args.k

    np.matmul(a, b, out=c)  # warm up: thread pool, page faults
    t0 = time.perf_counter()
    np.matmul(a, b, out=c)
    once = max(time.perf_counter() - t0, 1e-9)
    reps = args.reps or max(5, min(200, int(1.0 / once)))

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - t0)
    times.sort()
    t = times[0] if args.stat == "best" else times[len(times) // 2]

    library = "numpy " + np.__version__ + " / " + blas_library()
    json.dump({"gflops": round(flops / t / 1e9, 2), "m": args.m, "n": args.n, "k": args.k,
               "threads": args.threads, "library": library, "reps": reps, "stat": args.stat},
              sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

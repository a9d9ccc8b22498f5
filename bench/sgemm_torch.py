#!/usr/bin/python3
"""OpenBLAS single-precision GEMM through PyTorch on the shapes of SgemmBenchmark.

The baseline for bench/README.md: prints GFLOP/s per shape for 1 and 2 threads, so the ratio
to dlsql's Gemm.sgemm can be taken. Run with the system python3 (Debian's python3-torch, which
calls OpenBLAS): /usr/bin/python3 bench/sgemm_torch.py [--seconds S] [--threads 1,2]
Shapes are "ops:MxKxN" as in GemmShape.java: C[m x n] = op(A)[m x k] op(B)[k x n], where an
op letter t means the operand is stored transposed (A as k x m, B as n x k).
"""
import argparse
import time

import torch

# Keep in sync with GemmShape.BENCHMARK (and SgemmBenchmark's @Param list).
SHAPES = [
    "nn:1024x1024x1024",
    "nn:32x25x784",
    "nn:64x800x196",
    "nn:16x144x784",
    "nn:32x288x196",
    "nn:64x576x49",
    "nt:32x784x25",
    "nt:64x196x800",
    "tn:25x32x784",
    "tn:800x64x196",
    "nt:128x3136x1024",
    "nn:128x1024x3136",
    "tn:1024x128x3136",
]


def operands(shape):
    ops, dims = shape.split(":")
    m, k, n = (int(d) for d in dims.split("x"))
    gen = torch.Generator().manual_seed(42)
    # Stored layouts match the Java benchmark; .t() gives the transposed view BLAS reads in place.
    a = torch.rand(k, m, generator=gen).t() if ops[0] == "t" else torch.rand(m, k, generator=gen)
    b = torch.rand(n, k, generator=gen).t() if ops[1] == "t" else torch.rand(k, n, generator=gen)
    c = torch.empty(m, n)
    return a, b, c, 2.0 * m * k * n


def measure(a, b, c, seconds, clock):
    """Best of several timed batches of calls, in seconds per call by the given clock."""
    torch.mm(a, b, out=c)
    calls = 1
    while True:  # size a batch to about a tenth of the budget
        start = clock()
        for _ in range(calls):
            torch.mm(a, b, out=c)
        elapsed = clock() - start
        if elapsed > seconds / 10:
            break
        calls *= 2
    best = elapsed / calls
    deadline = clock() + seconds
    while clock() < deadline:
        start = clock()
        for _ in range(calls):
            torch.mm(a, b, out=c)
        best = min(best, (clock() - start) / calls)
    return best


def blas_libraries():
    """The BLAS shared objects this process has mapped (torch's build info just says 'generic')."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return sorted(paths)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timing budget per shape")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes")
    parser.add_argument(
        "--clock",
        choices=["wall", "thread"],
        default="wall",
        help="thread: this thread's CPU time, robust to other load but only meaningful with"
        " --threads 1 (OpenBLAS then computes in the calling thread); the counterpart of"
        " io.dlsql.bench.SgemmCpuTime",
    )
    args = parser.parse_args()
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # loads the BLAS library
    print(f"torch {torch.__version__}; BLAS: {', '.join(blas_libraries()) or 'unknown'}")
    print(f"clock: {args.clock}")
    print(f"{'shape (m x k x n)':<22} {'threads':>8} {'us/call':>12} {'GFLOP/s':>10}")
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        for shape in args.shapes.split(","):
            a, b, c, flops = operands(shape)
            seconds = measure(a, b, c, args.seconds, clock)
            print(f"{shape:<22} {threads:>8} {seconds * 1e6:>12.1f} {flops / seconds / 1e9:>10.1f}")


if __name__ == "__main__":
    main()

"""Dev-mode start-up time: spawn `trent serve --dev --seed <file>` until it prints its listening line,
ten times (BENCHMARKS.md). Usage: python3 scripts/dev-startup.py target/release/trent keys.yaml"""
import subprocess, time, sys, statistics
bin = sys.argv[1]
times = []
for i in range(10):
    t0 = time.monotonic()
    p = subprocess.Popen([bin, "serve", "--dev", "--listen", "127.0.0.1:0", "--metrics-listen", "off", "--seed", sys.argv[2]],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("trent: listening on "):
            break
    times.append((time.monotonic() - t0) * 1000)
    p.terminate(); p.wait()
print(f"start-up to listening, 10 runs: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")

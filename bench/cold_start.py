"""Cold start of the `dossier` command: `python bench/cold_start.py [--repeat R] [--data-dir DIR]`.

Each process is a fresh one, so each pays for its imports and its model load: `dossier --help`,
`dossier ask QUESTION` over an index of the two sample articles (built once in DIR by `dossier
ingest`, then reused), and `dossier serve` from spawn to the first 200 of `/readyz`. The three are
interleaved R times; the table gives medians in seconds of wall time and of CPU time (user and
system: it varies less than wall time on a busy machine; serve's includes its shutdown). Then one
`python -X importtime` run of `import server.cli` and one of `dossier ask` tell what the imports
cost, by module and by package (a single run, slowed by the measurement itself). Writes
bench/results/cold_start.json.
"""

import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = ROOT / "data" / "articles"
DOSSIER = Path(sys.executable).parent / "dossier"
QUESTION = "How many Indian AI professionals will Japan invite?"
READY_TIMEOUT = 300
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each command.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".dossier/bench/cold-start"),
        help="Index of the sample articles: built when missing, reused otherwise.",
    )
    parser.add_argument("--top", type=int, default=15, help="Imports listed per breakdown.")
    args = parser.parse_args()
    from stages import write_result  # eval.metrics: not needed for --help

    env = dossier_env(args.data_dir.resolve())
    build_index(args.data_dir.resolve(), env)
    runs: dict[str, list[tuple[float, float]]] = {
        "dossier --help": [],
        "dossier ask": [],
        "serve to ready": [],
    }
    for _ in range(args.repeat):  # interleaved: a slow minute on the machine hits all three
        runs["dossier --help"].append(timed([str(DOSSIER), "--help"], env))
        runs["dossier ask"].append(timed([str(DOSSIER), "ask", QUESTION], env))
        runs["serve to ready"].append(serve_to_ready(env))
    seconds = {name: summary(laps) for name, laps in runs.items()}
    imports = {
        "import server.cli": import_times(["-c", "import server.cli"], env, args.top),
        "dossier ask": import_times(
            ["-c", "from server.cli import main; main()", "ask", QUESTION], env, args.top
        ),
    }
    print_table(seconds, imports)
    write_result(
        "cold_start",
        {
            "commit": git_commit(),
            "loadavg": [round(load, 2) for load in os.getloadavg()],
            "cpus": os.cpu_count(),
            "repeat": args.repeat,
            "question": QUESTION,
            "seconds": seconds,
            "imports": imports,
        },
    )


def dossier_env(data_dir: Path) -> dict[str, str]:
    """This environment without its DOSSIER_ settings, over `data_dir`, with the model offline."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOSSIER_")}
    env.update(DOSSIER_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1")
    return env


def build_index(data_dir: Path, env: dict[str, str]) -> None:
    """Ingest the sample articles once; built aside and moved in, so a failed build is not reused."""
    if data_dir.exists():
        return
    building = data_dir.with_name(data_dir.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run(
        [str(DOSSIER), "ingest", str(SAMPLE_ARTICLES)],
        env=env | {"DOSSIER_DATA_DIR": str(building)},
        check=True,
    )
    building.rename(data_dir)


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (and been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`."""
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed, children_cpu() - cpu


def serve_to_ready(env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from spawning `dossier serve` to its first 200 from /readyz, and its CPU."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        cpu, started = children_cpu(), time.perf_counter()
        process = subprocess.Popen(
            [str(DOSSIER), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        try:
            ready = wait_until_ready(process, f"http://127.0.0.1:{port}/readyz", started)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if ready is None:
            log.seek(0)
            raise SystemExit(f"dossier serve was not ready in {READY_TIMEOUT} s:\n{log.read()}")
    return ready - started, children_cpu() - cpu


def wait_until_ready(process: subprocess.Popen, url: str, started: float) -> float | None:
    """When `url` first answered 200; None if the process ended or READY_TIMEOUT passed first."""
    while time.perf_counter() - started < READY_TIMEOUT and process.poll() is None:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return time.perf_counter()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # the resolution of the figure
    return None


def summary(laps: list[tuple[float, float]]) -> dict:
    walls, cpus = [wall for wall, _ in laps], [cpu for _, cpu in laps]
    return {
        "median": round(statistics.median(walls), 2),
        "cpu_median": round(statistics.median(cpus), 2),
        "runs": [round(wall, 2) for wall in walls],
        "cpu_runs": [round(cpu, 2) for cpu in cpus],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def import_times(arguments: list[str], env: dict[str, str], top: int) -> dict:
    """One `python -X importtime` run: the total, the slowest modules and the costliest packages."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"python {' '.join(arguments)} failed:\n{result.stderr}")
    modules = []  # (module, own µs, cumulative µs, nesting depth)
    for line in result.stderr.splitlines():
        if match := IMPORT_LINE.match(line):
            own, cumulative, indent, name = match.groups()
            modules.append((name, int(own), int(cumulative), len(indent) // 2))
    by_package: dict[str, int] = {}
    for name, own, _, _ in modules:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + own
    return {
        "total_s": round(
            sum(cumulative for *_, cumulative, depth in modules if depth == 0) / 1e6, 2
        ),
        "modules": len(modules),
        "top_cumulative_s": {
            name: round(cumulative / 1e6, 3)
            for name, _, cumulative, _ in sorted(modules, key=lambda m: -m[2])[:top]
        },
        "top_packages_s": {
            package: round(own / 1e6, 3)
            for package, own in sorted(by_package.items(), key=lambda p: -p[1])[:top]
        },
    }


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def print_table(seconds: dict, imports: dict) -> None:
    print(f"{'command':<18} {'wall s':>7} {'cpu s':>7}  wall s of each run")
    for name, figures in seconds.items():
        runs = " ".join(f"{value:.2f}" for value in figures["runs"])
        print(f"{name:<18} {figures['median']:>7.2f} {figures['cpu_median']:>7.2f}  {runs}")
    for what, breakdown in imports.items():
        print(f"\nimports of {what}: {breakdown['total_s']:.2f} s, {breakdown['modules']} modules")
        packages = list(breakdown["top_packages_s"].items())[:8]
        print("  by package: " + ", ".join(f"{name} {value:.2f}" for name, value in packages))
    print()


if __name__ == "__main__":
    main()

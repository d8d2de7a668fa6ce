"""Draw the benchmarks' figures as PNG: ``python -m bench.chart [bench/out/load.json]``.

Two panels for the load run: throughput (the mix per endpoint, then scans alone against the
bare endpoint and pgbench running the scan's SQL) and latency percentiles with the 50 ms
target. Everything drawn comes from the JSON file, so a reader can check the picture.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

BLUE, ORANGE, GREY, GREEN, RED = "#1f77b4", "#ff7f0e", "#7f7f7f", "#2ca02c", "#d62728"


def draw_load(r, path):
    path = Path(path)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.8), gridspec_kw={"width_ratios": [1.15, 1]})
    mixed = {k: v for k, v in r["mixed"].items() if k != "all"}

    labels = [f"{k}\n(mix)" for k in mixed] + ["POST /scans\n(alone)", "GET /healthz\n(bare)"]
    values = [v["rps"] for v in mixed.values()] + [r["scans_only"]["rps"], r["bare"]["rps"]]
    colors = [BLUE] * len(mixed) + [ORANGE, GREY]
    if r.get("pgbench"):
        labels.append("pgbench\nscan.sql")
        values.append(r["pgbench"]["tps"])
        colors.append(GREEN)
    bars = left.bar(range(len(values)), values, color=colors)
    left.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=8)
    left.set_xticks(range(len(values)), labels, fontsize=7.5, rotation=35, ha="right")
    left.set_yscale("log")  # the bare endpoint and the scans differ by an order of magnitude
    left.set_ylabel("requests (pgbench: transactions) per second, log scale")
    ratios = r["ratios"]
    left.set_title(
        f"Throughput, {r['setup']['clients']} clients — scans alone = "
        f"{ratios['scan_vs_bare']:.2f}× bare (target ≥ 0.25), "
        + (f"{ratios['scan_vs_pgbench']:.2f}× pgbench (≥ 0.35)" if ratios.get("scan_vs_pgbench") else ""),
        fontsize=9)

    names = list(mixed) + ["POST /scans (alone)"]
    stats = list(mixed.values()) + [r["scans_only"]]
    width = 0.27
    for offset, key, color in ((-width, "p50_ms", BLUE), (0, "p95_ms", ORANGE), (width, "p99_ms", RED)):
        right.bar([i + offset for i in range(len(names))], [s[key] or 0 for s in stats], width,
                  label=key.replace("_ms", ""), color=color)
    right.axhline(r["targets"]["scan_p99_ms"], color=RED, linestyle="--", linewidth=1)
    right.text(-0.4, r["targets"]["scan_p99_ms"], "p99 target 50 ms", color=RED,
               fontsize=8, ha="left", va="bottom")
    right.set_xticks(range(len(names)), names, fontsize=7.5, rotation=35, ha="right")
    right.set_ylabel("milliseconds")
    right.set_title("Latency percentiles (client side)", fontsize=9)
    right.legend(fontsize=8)

    m = r["machine"]
    fig.suptitle(f"EcoLife load benchmark — {m['cores']} cores, {m['cpu']}, {r['when']}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    source = Path(argv[0] if argv else "bench/out/load.json")
    print(draw_load(json.loads(source.read_text()), source.with_suffix(".png")))


if __name__ == "__main__":
    main()

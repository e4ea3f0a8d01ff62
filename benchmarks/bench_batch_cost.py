"""What the mini-batches' cost curve adds: to a worker's report, and to the cost chart the
page sends the browser at each live refresh (issue 16, part 1; docs/lab.md).

    python benchmarks/bench_batch_cost.py

In process, no MNIST needed: reports and views are built from made-up bins of the size a
real run sends (`nn.trainer.CostBin`, at most `nn.trainer.COST_BINS` a run). Prints the
pickled size of a progress report with and without the bins it carries, of all of a run's
bins, and the cost chart's data size and the CPU to build it and turn it into JSON as
st.plotly_chart does (median), with 0 and with every bin.
"""

from __future__ import annotations

import json
import pickle
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nn.protocol import State  # noqa: E402
from nn.settings import Settings  # noqa: E402
from nn.trainer import COST_BINS, CostBin, Point  # noqa: E402
from runs.messages import Report  # noqa: E402
from runs.view import RunView  # noqa: E402
from ui.charts import cost_figure  # noqa: E402
from ui.compat import unvalidated_figure  # noqa: E402


def sent(v: RunView) -> str:
    """The chart as st.plotly_chart turns it into its message's JSON."""
    import plotly.io as pio

    return pio.to_json(unvalidated_figure(cost_figure([v])), validate=False)


def bins(n: int, per: int = 150) -> tuple[CostBin, ...]:
    return tuple(
        CostBin((k + 0.5) * 30 / n, 0.1 / (1 + k / 100), 0.02 + k * 1e-5, 0.4 - k * 1e-5, per)
        for k in range(n)
    )


def view(n_bins: int) -> RunView:
    history = tuple(Point(e / 4, 0.9, 0.9, 9000, 0.05, e, 3.0, e % 4 == 0) for e in range(121))
    return RunView(
        1, "train", "", State.RUNNING, "", Settings(), 30.0, 60.0, history, (), None, None,
        None, 0.0, cost_bins=bins(n_bins),
    )  # fmt: skip


def cpu_ms(fn, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    # The book's run (30 epochs of 5,000 mini-batches) has bins of 150,000 / COST_BINS
    # mini-batches; at ~10,000 mini-batches a second a report every 0.2 s carries `k` bins.
    per = -(-150_000 // COST_BINS)
    k = -(-2_000 // per)
    plain = Report(State.RUNNING, "", 1.5, 3.0)
    full = replace(plain, cost_bins=bins(k, per), open_cost_bin=bins(1, per)[0])
    a, b = len(pickle.dumps(plain)), len(pickle.dumps(full))
    print(f"progress report: {a} B without, {b} B with {k} bins and the open one (+{b - a} B)")
    print(f"a whole run's {COST_BINS} bins: {len(pickle.dumps(bins(COST_BINS))) / 1000:.1f} kB")
    for n in (0, COST_BINS):
        v = view(n)
        size = len(json.dumps(cost_figure([v])["data"]))
        ms = cpu_ms(lambda v=v: sent(v))
        print(f"cost chart with {n:4d} bins: {size / 1000:.1f} kB of data, {ms:.2f} ms CPU")


if __name__ == "__main__":
    main()

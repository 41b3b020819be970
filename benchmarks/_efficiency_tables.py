"""Label-efficiency summaries: labels to each target, ratios and paired p-values against
random, AULC, skal against the peers, and the tables and plot of ``label_efficiency.py``
(which runs the campaigns these read).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def summarise(curves: dict, cfg: dict) -> dict:
    """Per column of ``curves`` (seeds paired): labels to each target per seed, the ratio
    of their means and the one-sided paired Wilcoxon p against random, and AULC."""
    from scipy.stats import wilcoxon

    from skal.metrics import area_under_learning_curve, labels_to_reach

    n_labeled = curves["random"]["n_labeled"]
    targets = cfg["targets"]
    if targets is None:  # MNIST-1D: random's mean accuracy at the full budget
        targets = [float(np.mean(curves["random"]["scores"][-1]))]
    censor = cfg["budget"] + cfg["step"]  # "never reached" counts as one round past budget
    out = {"targets": targets, "censored_at": censor, "strategies": {}}
    for name, c in curves.items():
        s = np.asarray(c["scores"])  # (n_rounds + 1, n_seeds)
        entry = {"aulc": area_under_learning_curve(c["n_labeled"], s).tolist(),
                 "round_seconds": float(np.mean(c["round_seconds"]))}
        for t in targets:
            reach = np.asarray(labels_to_reach(c["n_labeled"], s, t), dtype=float)
            entry[f"labels_to_{t:.3f}"] = reach.tolist()
        out["strategies"][name] = entry
    rand = out["strategies"]["random"]
    for _name, e in out["strategies"].items():
        for t in targets:
            key = f"labels_to_{t:.3f}"
            mine = np.minimum(np.asarray(e[key]), censor)
            base = np.minimum(np.asarray(rand[key]), censor)
            e[f"ratio_{t:.3f}"] = float(mine.mean() / base.mean())
            diff = mine - base
            e[f"p_{t:.3f}"] = (float(wilcoxon(mine, base, alternative="less").pvalue)
                               if np.any(diff != 0) else 1.0)
        a, b = np.asarray(e["aulc"]), np.asarray(rand["aulc"])
        e["p_aulc"] = (float(wilcoxon(a, b, alternative="greater").pvalue)
                       if np.any(a != b) else 1.0)
    out["n_labeled"] = np.asarray(n_labeled).tolist()
    return out


# Each peer against skal's implementation of the same algorithm.
SAME_ALGORITHM = {"modal_entropy": "entropy", "modal_margin": "margin",
                  "modal_uncertainty": "least_confident", "skactiveml_entropy": "entropy"}


def compare_peers(summary: dict) -> dict:
    """Per peer: skal's AULC minus the peer's (mean, two-sided paired Wilcoxon p) and the
    per-round time ratio skal / peer."""
    from scipy.stats import wilcoxon

    out = {}
    strategies = summary["strategies"]
    for peer, mine in SAME_ALGORITHM.items():
        if peer not in strategies or mine not in strategies:
            continue
        a = np.asarray(strategies[mine]["aulc"])
        b = np.asarray(strategies[peer]["aulc"])
        out[peer] = {
            "skal": mine,
            "aulc_diff": float(np.mean(a - b)),
            "p_two_sided": float(wilcoxon(a, b).pvalue) if np.any(a != b) else 1.0,
            "round_time_ratio": strategies[mine]["round_seconds"]
            / strategies[peer]["round_seconds"],
        }
    return out


def markdown_tables(dataset: str, summary: dict) -> str:
    """The tables of benchmarks/README.md."""
    targets = summary["targets"]
    head = "| strategy | " + " | ".join(
        f"labels@{t:.3g} | ratio | p" for t in targets) + " | AULC | p(AULC) | s/round |"
    lines = [head, "|---|" + "---:|" * (3 * len(targets) + 3)]
    for name, e in summary["strategies"].items():
        cells = []
        for t in targets:
            raw = np.asarray(e[f"labels_to_{t:.3f}"], dtype=float)
            v = np.minimum(raw, summary["censored_at"])
            p = "–" if name == "random" else f"{e[f'p_{t:.3f}']:.3f}"
            cells += [f"{v.mean():.1f} ({np.isfinite(raw).sum()}/{len(raw)})",
                      f"{e[f'ratio_{t:.3f}']:.2f}", p]
        p_aulc = "–" if name == "random" else f"{e['p_aulc']:.3f}"
        cells += [f"{np.mean(e['aulc']):.4f}", p_aulc, f"{e['round_seconds']:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    peers = summary.get("vs_peers", {})
    if peers:
        lines += ["", "| peer | skal strategy | AULC skal − peer | p (two-sided) | "
                  "s/round skal ÷ peer |", "|---|---|---:|---:|---:|"]
        for peer, c in peers.items():
            lines.append(f"| {peer} | {c['skal']} | {c['aulc_diff']:+.4f} | "
                         f"{c['p_two_sided']:.3f} | {c['round_time_ratio']:.2f} |")
    return f"{dataset}\n\n" + "\n".join(lines)


def print_table(dataset: str, summary: dict) -> None:
    """The summary as a plain-text table on stdout."""
    targets = summary["targets"]
    head = f"{'strategy':<20}" + "".join(
        f" | labels@{t:.3f} | ratio | p" for t in targets
    ) + " |  AULC  | p(AULC) | s/round"
    print(f"\n{dataset}: labels to reach target accuracy (mean over seeds; never reached "
          f"counts as {summary['censored_at']}), ratio vs random, one-sided Wilcoxon vs random")
    print(head)
    print("-" * len(head))
    for name, e in summary["strategies"].items():
        cells = ""
        for t in targets:
            v = np.minimum(np.asarray(e[f"labels_to_{t:.3f}"]), summary["censored_at"])
            reached = np.isfinite(np.asarray(e[f"labels_to_{t:.3f}"])).sum()
            cells += (f" | {v.mean():7.1f} ({reached}/{len(v)})"[:16].ljust(16)
                      + f" | {e[f'ratio_{t:.3f}']:.2f}  | {e[f'p_{t:.3f}']:.3f}")
        print(f"{name:<20}{cells} | {np.mean(e['aulc']):.4f} | {e['p_aulc']:.4f}  | "
              f"{e['round_seconds']:.2f}")
    for peer, c in summary.get("vs_peers", {}).items():
        print(f"  skal {c['skal']} vs {peer}: AULC {c['aulc_diff']:+.4f} (two-sided p "
              f"{c['p_two_sided']:.3f}), round time x{c['round_time_ratio']:.2f}")


def plot(all_curves: dict, path: Path, dashed=()) -> None:
    """Every data set's learning curves side by side; the ``dashed`` columns (the
    peers) dashed, random in black."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skal.plotting import ActiveLearningCurveDisplay

    fig, axes = plt.subplots(1, len(all_curves), figsize=(7 * len(all_curves), 5.5))
    axes = np.atleast_1d(axes)
    # 17 curves outrun the 10-colour cycle: random in black, peers dashed, tab20 colours.
    palette = plt.get_cmap("tab20").colors
    for ax, (dataset, curves) in zip(axes, all_curves.items()):
        display = ActiveLearningCurveDisplay.from_results(
            {k: (np.asarray(v["n_labeled"]), np.asarray(v["scores"])) for k, v in curves.items()},
            ax=ax, score_name="Test accuracy", show_legend=False,
            fill_between_kw={"alpha": 0.08},
        )
        for i, (name, line) in enumerate(display.lines_.items()):
            color = "black" if name == "random" else palette[i % len(palette)]
            line.set_color(color)
            line.set_linewidth(2.2 if name == "random" else 1.2)
            line.set_linestyle("--" if name in dashed else "-")
            display.fill_between_[name].set_color(color)
        ax.set_title(dataset)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, frameon=False)
    fig.subplots_adjust(bottom=0.27)
    fig.savefig(path, dpi=110, bbox_inches="tight")

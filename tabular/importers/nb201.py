"""Import published NAS-Bench-201 / NATS-Bench data into a nasuite table.

Reads the safe CSV/JSON copies described in ``../shared/data/published/*/PROVENANCE.md`` and,
where present, an official NATS-Bench tss release directory (``NATS-tss-v1_0-3ffb9-simple``)
through the restricted unpickler. Rows are ordered by our index; the official NB201 index is
the id column ``nb201``. Every value keeps its dataset name, split and epoch as published, and
its source is recorded next to it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tabular.errors import ImportDataError
from tabular.spaces.nb201 import NB201Space
from tabular.table import SEED_MEAN, RunStatus, Table

N_CELLS = 15_625
NATS_DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
#: which original split our ``valid`` / ``test`` are, per NATS dataset
SPLIT_SOURCE = {
    "cifar10-valid": {"train": "train (25k of CIFAR-10 train)", "valid": "x-valid", "test": "ori-test"},
    "cifar10": {"train": "train (50k)", "test": "ori-test"},
    "cifar100": {"train": "train (50k)", "valid": "x-valid", "test": "x-test"},
    "ImageNet16-120": {"train": "train", "valid": "x-valid", "test": "x-test"},
}
TESTACC = "nb201-nats-tss-testacc/nats_bench.csv"
TESTACC_12 = "nb201-nats-tss-testacc/nats_bench__bca0282_hp12_hp200_single_seed.csv"
NASWOT = "nb201-naswot-cifar10/arch_score_acc.csv"
ZEN = "nb201-naslib-zen-valacc/nb201_zen_valacc.csv"
ZC_SUBSET = "nb201-naslib-zc-subset/zc_nasbench201_flat.csv"
HELP = "nb201-help-latency/help_nb201_latency.csv"
RELEASE = "NATS-tss-v1_0-3ffb9-simple"


@dataclass
class ImportContext:
    """State shared by the per-source import steps."""

    root: Path
    space: NB201Space
    table: Table
    row_of_string: dict[str, int]
    sources: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rows_for(self, strings: list[str], where: str) -> np.ndarray:
        try:
            return np.array([self.row_of_string[s] for s in strings], dtype=np.int64)
        except KeyError as exc:
            self.space.from_str(exc.args[0])  # raises a parse error if malformed
            raise ImportDataError(f"{where}: architecture {exc.args[0]!r} is not an NB201 cell") from None

    def record_source(self, path: Path, what: str) -> None:
        self.sources.append({"file": str(path.relative_to(self.root)), "sha256": _sha256(path), "what": what})


def find(root: Path, relative: str) -> Path | None:
    """``relative`` under ``root``, or its file name directly in ``root``."""
    for candidate in (root / relative, root / Path(relative).name):
        if candidate.is_file():
            return candidate
    return None


def find_release(root: Path) -> Path | None:
    for candidate in (root, root / RELEASE, root / "nats-tss-fixture" / RELEASE):
        if (candidate / "meta.pickle.pbz2").is_file():
            return candidate
    return None


def read_csv(path: Path, expected_rows: int | None = None) -> list[dict[str, str]]:
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportDataError(f"cannot read {path}: {exc}") from exc
    if expected_rows is not None and len(rows) != expected_rows:
        raise ImportDataError(f"{path} has {len(rows)} rows, expected {expected_rows}")
    return rows


def column(rows: list[dict[str, str]], name: str, path: Path) -> np.ndarray:
    if rows and name not in rows[0]:
        raise ImportDataError(f"{path} has no column {name!r}; columns are {', '.join(rows[0])}")
    try:
        return np.array([float(r[name]) if r[name] != "" else np.nan for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise ImportDataError(f"{path}: column {name!r} holds a non-number: {exc}") from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---- the per-source steps ---------------------------------------------------------------
def import_testacc(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path, N_CELLS)
    target = ctx.rows_for([r["ArchitectureString"] for r in rows], str(path))
    names = {
        "cifar10": "CIFAR10TestAccuracy200Epochs",
        "cifar100": "CIFAR100TestAccuracy200Epochs",
        "ImageNet16-120": "ImageNetTestAccuracy200Epochs",
    }
    for dataset, col in names.items():
        split = SPLIT_SOURCE[dataset]["test"]
        ctx.table.set_metric(
            dataset,
            "test",
            200,
            SEED_MEAN,
            column(rows, col, path),
            rows=target,
            source=f"NATS-Bench tss v1.0 {dataset} {split}@199, mean over seeds (v-tao CSV)",
            status=RunStatus.IMPORTED,
        )
    ctx.record_source(path, "200-epoch seed-mean test accuracy, C10/C100/IN16 (NATS-Bench tss v1.0)")


def import_testacc_12(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path, N_CELLS)
    target = ctx.rows_for([r["ArchitectureString"] for r in rows], str(path))
    names = {
        "cifar10": "Cifar10TestAccuracy12Epochs",
        "cifar100": "Cifar100TestAccuracy12Epochs",
        "ImageNet16-120": "ImageNet16TestAccuracy12Epochs",
    }
    for dataset, col in names.items():
        split = SPLIT_SOURCE[dataset]["test"]
        ctx.table.set_metric(
            dataset,
            "test",
            12,
            111,
            column(rows, col, path),
            rows=target,
            schedule=12,
            source=f"NATS-Bench tss hp=12 {dataset} {split}@11, seed 111",
            status=RunStatus.IMPORTED,
        )
    ctx.notes.append(
        f"{path.name}: its 200-epoch columns are one trial of an undocumented seed; not imported "
        "(the seed-mean 200-epoch values come from nats_bench.csv)."
    )
    ctx.record_source(path, "12-epoch test accuracy, seed 111 (NATS-Bench tss hp=12)")


def import_naswot(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path, N_CELLS)
    target = ctx.rows_for([r["cellstr"] for r in rows], str(path))
    order = np.argsort(target)
    t = ctx.table
    t.set_metric(
        "cifar10-valid",
        "valid",
        200,
        SEED_MEAN,
        column(rows, "valid_top1", path),
        rows=target,
        source="NAS-Bench-201 v1_1 cifar10-valid x-valid@199, seed mean (NASWOT repo)",
        status=RunStatus.IMPORTED,
    )
    t.set_metric(
        "cifar10-valid",
        "test",
        200,
        SEED_MEAN,
        column(rows, "valid_test_top1", path),
        rows=target,
        source="NAS-Bench-201 v1_1 cifar10-valid ori-test@199, seed mean (NASWOT repo)",
    )
    params = np.rint(column(rows, "params", path) * 1e6)[order]
    t.set_hardware(
        "params",
        params,
        unit="count",
        source=f"{path.name} (NB201 v1_1)",
        description="parameters of the CIFAR-10 network (C=16, N=5, 10 classes)",
    )
    t.set_zero_cost(
        "cifar10",
        "naswot",
        column(rows, "score", path)[order],
        source="NASWOT v1 score (Mellor et al. 2021), NASWOT repo arch_score_acc; batch/seed unrecorded",
    )
    ctx.notes.append(
        "cifar10-valid valid@200 and test@200 (seed mean) are NAS-Bench-201 v1_1 values, while the other "
        "200-epoch means are NATS-Bench tss v1.0; the two releases differ on some trials (1,430 CIFAR-10 "
        "test means by >0.1 pt). Its CIFAR-10 test_top1 column (v1_1) is not imported to keep cifar10 "
        "test@200 on one release."
    )
    ctx.record_source(path, "CIFAR-10 valid accuracy, params and NASWOT score (NB201 v1_1)")


def import_zen(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path, 3 * N_CELLS)
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        part = [r for r in rows if r["dataset"] == dataset]
        if len(part) != N_CELLS:
            raise ImportDataError(f"{path}: {len(part)} rows for {dataset}, expected {N_CELLS}")
        target = ctx.rows_for([r["arch_str"] for r in part], str(path))
        order = np.argsort(target)
        ctx.table.set_zero_cost(
            dataset,
            "naslib_zen",
            column(part, "zen_score", path)[order],
            source="Zen-NAS score (Lin et al. 2021) computed by NASLib (nb201_zen.zip)",
        )
        # NASLib's "val_accuracy" is seed 888's test-split accuracy (see its PROVENANCE.md)
        trained_on = "cifar10-valid" if dataset == "cifar10" else dataset
        split = SPLIT_SOURCE[trained_on]["test"]
        ctx.table.set_metric(
            trained_on,
            "test",
            200,
            888,
            column(part, "val_accuracy", path),
            rows=target,
            source=f"NATS-Bench {trained_on} {split}@199 seed 888, via NASLib 'val_accuracy'",
            status=RunStatus.IMPORTED,
        )
    ctx.record_source(path, "Zen scores and NASLib val_accuracy (= seed-888 test split), 3 datasets")


def import_zc_subset(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path)
    proxies = [
        "epe_nas",
        "fisher",
        "flops",
        "grad_norm",
        "grasp",
        "jacov",
        "l2_norm",
        "nwot",
        "params",
        "plain",
        "snip",
        "synflow",
    ]
    for dataset in sorted({r["dataset"] for r in rows}):
        part = [r for r in rows if r["dataset"] == dataset]
        target = ctx.rows_for([r["arch_str"] for r in part], str(path))
        for proxy in proxies:
            values = np.full(ctx.table.n_rows, np.nan)
            values[target] = column(part, proxy, path)
            ctx.table.set_zero_cost(
                dataset,
                f"naslib_{proxy}",
                values,
                source=f"NAS-Bench-Suite-Zero snapshot (NASLib), {len(part)} cells",
            )
    ctx.record_source(path, "12 zero-cost proxies for ~724 cells per dataset (NAS-Bench-Suite-Zero)")


def import_help(ctx: ImportContext, path: Path) -> None:
    rows = read_csv(path, N_CELLS)
    target = ctx.rows_for([r["arch_str"] for r in rows], str(path))
    order = np.argsort(target)
    for name in [c for c in rows[0] if c.endswith("_ms")]:
        device = name[: -len("_ms")]
        ctx.table.set_hardware(
            f"latency_ms:{device}",
            column(rows, name, path)[order],
            unit="ms",
            source="HELP (Lee et al. 2021) latency/<device>.pt via safe CSV",
            description=f"inference latency on {device} (HELP device name; _N = batch N)",
        )
    ctx.record_source(path, "latency on 27 HELP device settings")


STEPS: tuple[tuple[str, Callable[[ImportContext, Path], None]], ...] = (
    (TESTACC, import_testacc),
    (TESTACC_12, import_testacc_12),
    (NASWOT, import_naswot),
    (ZEN, import_zen),
    (ZC_SUBSET, import_zc_subset),
    (HELP, import_help),
)


def import_nb201(root: str | os.PathLike[str], out: str | os.PathLike[str], command: str = "") -> Table:
    """Build the NB201 table from the published files under ``root`` and write it to ``out``.

    Nothing is written unless every step succeeds (the table is saved atomically at the end).
    """
    from tabular.importers.nats import import_release
    from tabular.table.store import check_writable

    base = Path(root)
    if not base.is_dir():
        raise ImportDataError(
            f"no such folder {str(base)!r}; expected the published data folder "
            "(e.g. ../shared/data/published) or a NATS-Bench release folder"
        )
    check_writable(out)
    release = find_release(base)
    found = [(rel, step, find(base, rel)) for rel, step in STEPS]
    if found[0][2] is None and release is None:
        raise ImportDataError(
            f"{str(base)!r} holds neither {TESTACC} nor an official {RELEASE}/ folder; get the NATS-Bench "
            "tss release (NATS-tss-v1_0-3ffb9-simple.tar) or the published CSVs"
        )
    space = NB201Space()
    ctx = ImportContext(root=base, space=space, table=_empty_table(space, base, release), row_of_string={})
    ctx.row_of_string = {s: i for i, s in enumerate(ctx.table.strings)}
    for dataset in NATS_DATASETS:
        ctx.table.ensure_dataset(dataset, split_source=SPLIT_SOURCE[dataset])
    for rel, step, path in found:
        if path is None:
            ctx.notes.append(f"{rel}: not found under {base}; skipped")
            continue
        step(ctx, path)
    if release is not None:
        import_release(ctx, release)
    ctx.table.raw.root_attrs["provenance"] = _provenance(ctx, command)
    ctx.table.save(out)
    return ctx.table


def _empty_table(space: NB201Space, root: Path, release: Path | None) -> Table:
    official = _official_strings(root, release)
    archs = space.all_archs()
    ours = {space.to_str(tuple(int(v) for v in a)): i for i, a in enumerate(archs)}
    nb201_id = np.full(len(archs), -1, dtype=np.int64)
    for official_index, text in enumerate(official):
        nb201_id[ours[text]] = official_index
    return Table.new(space, archs, provenance={}, ids={"nb201": nb201_id})


def _official_strings(root: Path, release: Path | None) -> list[str]:
    """The official NB201 index order, from the release's meta or the published CSV."""
    if release is not None:
        from tabular.importers.nats_release import read_meta

        strings = list(read_meta(release).arch_strs)
    else:
        path = find(root, TESTACC)
        assert path is not None
        strings = [r["ArchitectureString"] for r in read_csv(path, N_CELLS)]
    space = NB201Space()
    for text in strings:
        space.from_str(text)
    if len(set(strings)) != N_CELLS:
        raise ImportDataError(
            f"the official index list has {len(set(strings))} distinct cells, expected {N_CELLS}"
        )
    return strings


def _provenance(ctx: ImportContext, command: str) -> dict[str, object]:
    import h5py

    import tabular

    return {
        "kind": "imported",
        "benchmark": "NAS-Bench-201 / NATS-Bench tss",
        "command": command or " ".join(sys.argv),
        "sources": ctx.sources,
        "notes": ctx.notes,
        "software": {
            "nasuite": tabular.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "h5py": h5py.__version__,
        },
        "dataset_names": "NATS-Bench names, unchanged: cifar10-valid, cifar10, cifar100, ImageNet16-120",
    }


def iter_steps() -> Iterator[str]:
    """The relative paths the importer looks for, in order (for error messages and docs)."""
    yield from (rel for rel, _ in STEPS)

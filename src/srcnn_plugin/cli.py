"""``srcnn-plugin``: upscale | adapt | train | evaluate | info.

Every subcommand has ``--help`` with examples. Errors are one clear line
(``--debug`` shows the traceback); the exit code is non-zero when anything
failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ._options import ENSEMBLES

__all__ = ["main", "build_parser"]

log = logging.getLogger("srcnn_plugin")


class CLIError(Exception):
    """A user error reported as one line."""


def _fmt(scale: float) -> str:
    return f"{scale:g}"


# --------------------------------------------------------------------- upscale
def _collect(
    inputs, pattern: str, recursive: bool, list_file: Path | None, sample: bool = False
) -> list[tuple[Path, Path | None]]:
    """Input files, each with the folder it was found in (``None`` for named files)."""
    from ._io import IMAGE_SUFFIXES

    items = [Path(p) for p in inputs]
    if sample:
        from .data import sample_path

        items.append(Path(str(sample_path())))
    if list_file is not None:
        lines = list_file.read_text().splitlines()
        items += [Path(s.strip()) for s in lines if s.strip() and not s.startswith("#")]

    def images(folder: Path, deep: bool):
        found = folder.rglob(pattern) if deep else folder.glob(pattern)
        return (q for q in found if q.is_file() and q.name.lower().endswith(IMAGE_SUFFIXES))

    files: list[tuple[Path, Path | None]] = []
    for p in items:
        if p.is_dir():
            files += sorted((q, p) for q in images(p, recursive))
        else:
            files.append((p, None))
    if not files:
        # Only now look deeper, to say why nothing was found.
        nested = not recursive and any(next(images(p, True), None) for p in items if p.is_dir())
        hint = " (images sit in subfolders: pass -r to search them)" if nested else ""
        raise CLIError(f"no input images found{hint}; pass image files, folders or --list FILE.")
    return files


def _target(src: Path, out_dir: Path | None, suffix: str, root: Path | None = None) -> Path:
    """Output path: next to the input, or under ``out_dir`` keeping the tree below ``root``."""
    name = src.name
    lower = name.lower()
    ext = (
        ".ome.tif"
        if lower.endswith(".ome.tif")
        else (".ome.tiff" if lower.endswith(".ome.tiff") else src.suffix)
    )
    stem = name[: len(name) - len(ext)]
    folder = out_dir or src.parent
    if out_dir is not None and root is not None:
        folder = out_dir / src.parent.relative_to(root)
    return folder / f"{stem}{suffix}{ext}"


def plan_outputs(
    files: list[tuple[Path, Path | None]], output: Path | None, suffix: str
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Every ``(input, output)`` of a batch, and the clashes that forbid writing any.

    With ``output`` naming a file (an image suffix, not an existing folder)
    a single input is written there. Clashes: two inputs mapped to one
    output, or an output that is one of the inputs.

    Examples
    --------
    >>> jobs, clashes = plan_outputs(
    ...     [(Path("a/train/7.png"), Path("a")), (Path("a/test/7.png"), Path("a"))],
    ...     Path("out"), "_x2")
    >>> [str(d) for _, d in jobs], clashes
    (['out/train/7_x2.png', 'out/test/7_x2.png'], [])
    >>> plan_outputs([(Path("a/7.png"), None), (Path("b/7.png"), None)], Path("o"), "")[1]
    ['a/7.png and b/7.png would both write o/7.png']
    """
    from ._io import IMAGE_SUFFIXES

    as_file = (
        output is not None and output.name.lower().endswith(IMAGE_SUFFIXES) and not output.is_dir()
    )
    if as_file and len(files) != 1:
        raise CLIError(
            f"-o {output} names a file but there are {len(files)} inputs; pass an output "
            "folder (-o DIR) for several inputs."
        )
    jobs = [(src, output if as_file else _target(src, output, suffix, root)) for src, root in files]
    clashes, seen = [], {}
    inputs = {src.resolve() for src, _ in jobs}
    for src, dst in jobs:
        key = dst.resolve()
        if key in seen:
            clashes.append(f"{seen[key]} and {src} would both write {dst}")
        seen.setdefault(key, src)
        if key in inputs:
            clashes.append(
                f"{src} -> {dst} would overwrite the input it names; pass -o DIR or --suffix"
            )
    return jobs, clashes


def _library_check(check):
    """An argparse type: the library's own validator, its message as the CLI's."""

    def parse(text: str):
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}.") from None


def _noise_value(text: str):
    """``--noise``: 'auto', 'poisson', 'poisson:GAIN[,OFFSET[,READ]]' or a level >= 0.

    See ``_validation.check_noise`` and ``degradations.PoissonGaussian``.
    """
    from ._validation import check_noise

    if text in ("auto", "poisson"):
        return text
    if text.startswith("poisson:"):
        from .degradations import PoissonGaussian

        values = [_number(v) for v in text.split(":", 1)[1].split(",")]
        if not 1 <= len(values) <= 3:
            raise ValueError(f"expected poisson:GAIN[,OFFSET[,READ]], got {text!r}.")
        return PoissonGaussian(*values)
    return float(check_noise(_number(text), 1)[0])


def _psf_value(text: str) -> float:
    """``--psf-sigma``: a sigma >= 0 in output pixels (``_validation.check_psf_sigma``)."""
    from ._validation import check_psf_sigma

    return check_psf_sigma(_number(text))


_noise_arg = _library_check(_noise_value)
_psf_arg = _library_check(_psf_value)


def _factors(img, scale: list[float]) -> dict:
    """Factor per axis letter: a single value applies to Y and X only."""
    spatial = [a for i, a in enumerate(img.axes) if i != img.channel_axis]
    if len(scale) == 1:
        return {a: (scale[0] if a in "YX" else 1.0) for a in spatial}
    if len(scale) != len(spatial):
        raise CLIError(
            f"--scale has {len(scale)} values but the image has {len(spatial)} spatial axes "
            f"({''.join(spatial)}); pass one value (for Y and X) or one per axis."
        )
    return dict(zip(spatial, scale))


def _tile_progress(args, data, factors, name: str = ""):
    """Tile progress for big images (over 16 MPix out), or always with -v.

    A bar on a terminal; without one (logs, CI, pipes) a plain line every 10 %
    of the tiles, so logs hold no control codes.
    """
    if args.quiet:
        return False
    out_px = data.size
    for f in factors.values():
        out_px *= f
    if not (args.verbose > 0 or out_px > 16e6):
        return False
    if getattr(args, "relay_progress", False):
        return _PlainProgress(name, _relay)
    if sys.stderr.isatty():
        return True
    return _PlainProgress(name)


class _PlainProgress:
    """``(done, total)`` callback writing a line at every further 10 % of the tiles.

    ``write`` gets the line: stderr by default; on cluster workers ``_relay``,
    which sends it to the client (``_run_on_cluster`` prints it).
    """

    def __init__(self, name: str, write=None):
        self.name, self.shown, self.write = name, -1, write or _to_stderr

    def __call__(self, done: int, total: int) -> None:
        tenth = 10 * done // max(total, 1)
        if tenth > self.shown:
            self.shown = tenth
            self.write(f"{self.name}: {done}/{total} tiles")


_PROGRESS_TOPIC = "srcnn-plugin-progress"


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _relay(line: str) -> None:
    """Send a progress line from a dask.distributed worker to the client."""
    from distributed import get_worker

    get_worker().log_event(_PROGRESS_TOPIC, line)


def _read(src: Path, channel_axis: str):
    """The image file and its channel axis (``--channel-axis``: auto, none or an index)."""
    from ._io import read_image

    img = read_image(src)
    ch = (
        img.channel_axis
        if channel_axis == "auto"
        else (None if channel_axis == "none" else int(channel_axis))
    )
    if channel_axis != "auto":
        axes = list(img.axes)
        img.axes = "".join(a if a not in "CS" else "Q" for a in axes)
        if ch is not None:
            axes = list(img.axes)
            axes[ch] = "C"
            img.axes = "".join(axes)
    return img, ch


def _adapt_setting(args):
    """``rescale``'s ``adapt=`` from ``upscale --adapt``."""
    if not args.adapt:
        return None
    return {
        "seconds": args.adapt_seconds,
        "steps": args.adapt_steps,
        "degradation": args.degradation,
    }


def _upscale_one(src: Path, dst: Path, args) -> str:
    import warnings

    import numpy as np

    from ._adapt import AdaptationWarning
    from ._color import auto_color_mode
    from ._dtype import restore_dtype
    from ._io import write_image

    img, ch = _read(src, args.channel_axis)
    spatial = [a for i, a in enumerate(img.axes) if i != ch]
    factors = _z_factors(img, ch, args) if args.isotropic else _factors(img, args.scale)
    color = args.color_mode
    if color == "auto":
        n_ch = img.data.shape[ch] if ch is not None else 1
        color = auto_color_mode(n_ch, rgb=img.data.dtype == np.uint8 and img.kind == "plain")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AdaptationWarning)
        if args.isotropic:
            out = _isotropic_file(img, ch, factors["Z"], args)
        else:
            out = _rescale_file(img, ch, factors, spatial, color, src, args)
    for w in caught:
        if issubclass(w.category, AdaptationWarning):
            log.warning("%s: %s", src.name, w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    out = out.astype(np.float32) if args.float else restore_dtype(out, img.data.dtype)
    write_image(dst, img.scaled(out, factors), overwrite=args.overwrite)
    return f"{src} -> {dst} {img.data.shape} -> {out.shape}"


def _z_factors(img, ch, args) -> dict:
    """``--isotropic``: factor 1 per axis but Z's, from --z-factor or the Z/X spacing.

    A stack whose third-last spatial axis is unnamed (tifffile's ``Q`` or
    ``I``) counts as Z and is named so in the output.
    """
    where = [i for i in range(len(img.axes)) if i != ch]
    spatial = [img.axes[i] for i in where]
    if len(spatial) < 3 or spatial[-2:] != ["Y", "X"] or spatial[-3] not in "ZQI":
        raise CLIError(
            f"--isotropic needs a Z-stack (axes ...ZYX), got axes {''.join(spatial)}; pass a "
            "volume, or --channel-axis if the file's axes are mislabelled."
        )
    z = args.z_factor
    if z is None:
        sizes = img.pixel_size
        if "Z" not in sizes or "X" not in sizes:
            raise CLIError(
                "the file records no Z spacing and X pixel size (ImageJ spacing or OME "
                "PhysicalSizeZ/X); pass --z-factor (Z spacing / pixel size)."
            )
        z = sizes["Z"] / sizes["X"]
    if not z > 1:
        raise CLIError(f"the Z factor is {z:g}: Z is not coarser than X; nothing to do.")
    axes = list(img.axes)
    axes[where[-3]] = "Z"
    img.axes = "".join(axes)
    return {a: (z if a == "Z" else 1.0) for a in [*spatial[:-3], "Z", "Y", "X"]}


def _isotropic_file(img, ch, z_factor: float, args):
    from ._isotropic import isotropic

    return isotropic(
        img.data,
        z_factor,
        axial_sigma=args.axial_sigma,
        channel_axis=ch,
        preserve_range=True,
        adapt=False
        if args.no_adapt
        else {"seconds": args.adapt_seconds, "steps": args.adapt_steps},
        model=args.model,
        device=args.device,
        tile_size=args.tile_size,
        precision=args.precision,
        symmetric=not args.fast,
        ensemble=args.ensemble,
        noise=args.noise,
    )


def _rescale_file(img, ch, factors, spatial, color, src, args):
    from ._job import describe_line
    from ._options import Options
    from ._rescale import rescale_with

    options = Options(
        model=args.model,
        device=args.device,
        tile_size=args.tile_size,
        precision=args.precision,
        symmetric=not args.fast,
        ensemble=args.ensemble,
        noise=args.noise,
        psf_sigma=args.psf_sigma,
        adapt=_adapt_setting(args),
    )
    record = {}  # what the network is told, from the run's own statistics
    out = rescale_with(
        img.data,
        [factors[a] for a in spatial],
        options,
        channel_axis=ch,
        preserve_range=True,
        color_mode=color,
        progress=_tile_progress(args, img.data, factors, src.name),
        record=record,
    )
    if args.verbose:
        log.info("%s: %s", src.name, describe_line(record))
    return out


def _check_model(m) -> None:
    """``--model``: a bundled name, a family or an existing weights file."""
    from .models.registry import FAMILIES, list_models

    if m is not None and m not in FAMILIES and m not in list_models() and not Path(m).is_file():
        raise CLIError(
            f"unknown model {m!r}: pass a bundled name ({', '.join(list_models())}), a family "
            f"({', '.join(FAMILIES)}) or an existing weights file."
        )


def _check_upscale_args(args) -> None:
    """Refuse bad arguments before any file is read."""
    if args.jobs < 1:
        raise CLIError(f"--jobs must be at least 1, got {args.jobs}.")
    if args.isotropic:
        if args.scale is not None:
            raise CLIError("--isotropic sets the Z factor: pass --z-factor (or none), not --scale.")
        if args.adapt or args.psf_sigma is not None:
            raise CLIError("--isotropic adapts (to the lateral planes) unless --no-adapt; drop "
                           "--adapt and --psf-sigma (the axial PSF is --axial-sigma).")  # fmt: skip
        if args.z_factor is not None and not args.z_factor > 1:
            raise CLIError(f"--z-factor must be above 1, got {_fmt(args.z_factor)}.")
    elif args.scale is None:
        raise CLIError("pass --scale (one factor for Y and X, or one per axis), or --isotropic.")
    elif args.z_factor is not None or args.axial_sigma is not None or args.no_adapt:
        raise CLIError("--z-factor, --axial-sigma and --no-adapt go with --isotropic.")
    elif any(not f > 0 for f in args.scale):
        raise CLIError(f"--scale must be positive, got {' '.join(map(_fmt, args.scale))}.")
    _check_model(args.model)
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        from ._io import IMAGE_SUFFIXES

        if not args.output.name.lower().endswith(IMAGE_SUFFIXES):
            raise CLIError(f"-o {args.output} exists and is not a folder or an image file.")


def _cmd_upscale(args) -> int:
    _check_upscale_args(args)
    files = _collect(args.inputs, args.glob, args.recursive, args.list, args.sample)
    if args.sample and args.output is None:
        args.output = Path.cwd()
    default_suffix = "_iso" if args.isotropic else f"_x{_fmt(max(args.scale))}"
    suffix = args.suffix if args.suffix is not None else default_suffix
    planned, clashes = plan_outputs(files, args.output, suffix)
    if clashes:
        for c in clashes:
            print(f"error: {c}", file=sys.stderr)
        print(
            f"nothing written: {len(clashes)} clash(es) in the output plan; pass -o DIR "
            "(with -r the folder tree is kept), --suffix, or fewer inputs.",
            file=sys.stderr,
        )
        if args.dry_run:
            for src, dst in planned:
                print(f"{src} -> {dst}")
        return 1
    jobs, failed, skipped = [], [], 0
    for src, dst in planned:
        if args.float and not dst.name.lower().endswith((".tif", ".tiff")):
            failed.append((src, "--float needs TIFF output (PNG/JPEG/BMP store integers)"))
            continue
        if dst.exists() and not args.overwrite:
            if args.skip_existing:
                skipped += 1
                log.info("skip (exists): %s", dst)
                continue
            failed.append((src, f"{dst} exists; pass --overwrite or --skip-existing"))
            continue
        jobs.append((src, dst))
    if args.dry_run:
        for src, dst in jobs:
            print(f"{src} -> {dst}")
        for src, why in failed:
            print(f"error: {src}: {why}", file=sys.stderr)
        return 1 if failed else 0
    if args.jobs > 1 or args.scheduler:
        done, more_failed = _run_on_cluster(jobs, args)
        failed += more_failed
    else:
        done = _run_here(jobs, args, failed)
    for src, why in failed:
        print(f"error: {src}: {why}", file=sys.stderr)
    if not args.quiet:
        print(f"{done} written, {skipped} skipped, {len(failed)} failed")
    return 1 if failed else 0


def _run_here(jobs, args, failed: list) -> int:
    """Upscale the planned jobs one after the other; the number written."""
    from tqdm.auto import tqdm

    done = 0
    # A bar on a terminal; plain "[i/n] file" lines otherwise (no control codes in logs).
    tty = sys.stderr.isatty()
    bar = tqdm(jobs, desc="upscale", unit="file", disable=args.quiet or len(jobs) < 2 or not tty)
    for i, (src, dst) in enumerate(bar, 1):
        if not tty and not args.quiet and len(jobs) > 1:
            print(f"[{i}/{len(jobs)}] {src}", file=sys.stderr, flush=True)
        try:
            msg = _upscale_one(src, dst, args)
            done += 1
            log.info(msg)
        except Exception as exc:  # a bad file must not stop the batch
            if args.debug:
                log.exception("failed: %s", src)
            failed.append((src, _describe_failure(src, exc)))
    return done


def _upscale_task(src: Path, dst: Path, args) -> tuple[bool, str]:
    """One file on a worker: ``(written, message)``; failures come back as messages.

    Tile progress (big images, or ``-v``) is relayed to the client as plain lines.
    """
    args = argparse.Namespace(**{**vars(args), "relay_progress": True})
    try:
        return True, _upscale_one(src, dst, args)
    except Exception as exc:  # reported by the client, the batch goes on
        return False, _describe_failure(src, exc)


def _run_on_cluster(jobs, args) -> tuple[int, list]:
    """Upscale the planned jobs on a dask.distributed cluster (local processes by default).

    The plan (and its clash checks) was made before; each worker writes its
    own files atomically, exactly as a local run does.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise CLIError(
            "--jobs/--scheduler need dask.distributed: pip install 'srcnn-plugin[dask]'."
        ) from None
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(
            n_workers=args.jobs, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    done, failed = 0, []
    if not args.quiet:
        client.subscribe_topic(_PROGRESS_TOPIC, lambda event: _to_stderr(str(event[1])))
    try:
        futures = {
            client.submit(_upscale_task, src, dst, args, pure=False): src for src, dst in jobs
        }
        for i, fut in enumerate(as_completed(futures), 1):
            src = futures[fut]
            ok, msg = fut.result()
            if ok:
                done += 1
                log.info(msg)
            else:
                failed.append((src, msg))
            if not args.quiet and len(jobs) > 1:
                print(f"[{i}/{len(jobs)}] {src}", file=sys.stderr, flush=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return done, failed


def _describe_failure(src: Path, exc: Exception) -> str:
    """One line for a file that failed; unreadable files say so plainly."""
    text = str(exc)
    if isinstance(exc, CLIError):
        return text
    unreadable = (
        "failed to read" in text
        or "not a TIFF" in text.lower()
        or "cannot decode" in text
        or isinstance(exc, (EOFError, OSError))
        and not isinstance(exc, FileNotFoundError)
    )
    if unreadable:
        return f"cannot read {src.name}: the file is corrupt or truncated ({text[:120]})"
    return f"{type(exc).__name__}: {text}"


# ----------------------------------------------------------------------- adapt
def _check_adapt_args(args) -> None:
    """Refuse bad arguments (and an output that exists) before any image is read."""
    if not args.scale > 1:
        raise CLIError(f"--scale must be above 1 (a factor to learn), got {_fmt(args.scale)}.")
    _check_model(args.model)
    if args.output.is_dir():
        raise CLIError(f"-o {args.output} is a folder; pass a weights file name such as mine.pt.")
    if args.output.exists() and not args.overwrite:
        raise CLIError(f"{args.output} exists; pass --overwrite to replace it, or another -o.")
    if not args.output.parent.is_dir():
        raise CLIError(f"the folder of -o {args.output} does not exist.")
    from ._adapt import AdaptSettings

    try:
        AdaptSettings(
            degradation=args.degradation, steps=args.steps, seconds=args.seconds, seed=args.seed
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _cmd_adapt(args) -> int:
    import warnings

    import numpy as np

    from ._adapt import AdaptationWarning
    from ._transform import Upscaler

    _check_adapt_args(args)
    files = [src for src, _ in _collect(args.images, args.glob, args.recursive, None)]
    s = args.scale
    planes = []
    for src in files:
        img, ch = _read(src, args.channel_axis)
        # Every image as (planes, Y, X, channels): one layout and one scale for all.
        data = np.moveaxis(img.data, ch, -1) if ch is not None else img.data[..., None]
        planes.append(data.reshape(-1, *data.shape[-3:]))
    up = Upscaler((1, s, s), model=args.model, device=args.device, channel_axis=-1)
    progress = not args.quiet and sys.stderr.isatty()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AdaptationWarning)
        up = up.adapt(
            planes, psf_sigma=args.psf_sigma, noise=args.noise, degradation=args.degradation,
            seconds=args.seconds, steps=args.steps, seed=args.seed, progress=progress,
        )  # fmt: skip
    rep = up.adaptation
    summary = (
        f"{rep['planes']} plane(s) from {len(files)} image(s), {rep['steps']} steps in "
        f"{rep['seconds']:.0f} s ({rep['stopped_by']}); held-out PSNR "
        f"{rep['holdout_psnr_before']:.2f} -> {rep['holdout_psnr_after']:.2f} dB"
    )
    if not rep["adapted"]:
        print(f"error: adaptation did not improve: {summary}", file=sys.stderr)
        print(
            f"nothing written; {rep['base_model']} stays the better model for these images "
            "(check --psf-sigma and --degradation).",
            file=sys.stderr,
        )
        return 1
    for w in caught:
        if not issubclass(w.category, AdaptationWarning):
            log.warning("%s", w.message)
    up.save(args.output, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{summary}\nadapted {rep['base_model']} -> {args.output}")
        print(f"use it: srcnn-plugin upscale IMAGES --scale {_fmt(s)} --model {args.output}")
    return 0


# ----------------------------------------------------------------------- train
def _cmd_train_sc(args) -> int:
    from .baselines import train_dictionary
    from .training.data import list_images, read_luma

    if args.output.exists():
        raise CLIError(f"{args.output} exists; pass another -o (nothing was written).")
    if not args.output.parent.is_dir():
        raise CLIError(f"the folder of -o {args.output} does not exist.")
    if not args.scale > 1:
        raise CLIError(f"--scale must be above 1, got {_fmt(args.scale)}.")
    paths = [p for src in args.images for p in list_images(src)]
    if not paths:
        raise CLIError("no images found; pass image files or folders of them.")
    command = "srcnn-plugin train-sc " + " ".join(sys.argv[2:])
    d = train_dictionary(
        [read_luma(p) for p in paths], args.scale, atoms=args.atoms, samples=args.samples,
        lam=args.lam, iterations=args.iterations, hr_weight=args.hr_weight, seed=args.seed,
        metadata={"images": len(paths), "command": command},
    )  # fmt: skip
    d.save(args.output)
    if not args.quiet:
        print(f"{args.output}: {d.atoms} atoms from {len(paths)} image(s) in "
              f"{d.metadata['seconds']:.0f} s")  # fmt: skip
    return 0


def _cmd_train(args) -> int:
    from .training.train import TrainConfig, train

    f1, f2, f3 = (int(v) for v in args.arch.split("-"))
    cfg = TrainConfig(
        scales=tuple(args.scales),
        f1=f1,
        f2=f2,
        f3=f3,
        residual=not args.no_residual,
        noise_aware=args.noise_aware,
        blur_aware=args.blur_aware,
        noise_map=args.noise_map,
        degradation=tuple(args.degradation) if args.degradation else None,
        variants=args.variants,
        clean=args.clean,
        hr_blur=args.hr_blur,
        contrast=args.contrast,
        patch=args.patch,
        batch=args.batch,
        hr_scales=tuple(args.hr_scales),
        channels=args.channels,
        val_channels=args.val_channels,
        steps=args.steps,
        lr=args.lr,
        lr_min=args.lr_min,
        warmup=args.warmup,
        val_fraction=args.val_fraction,
        val_every=args.val_every,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        lr_grid=args.lr_grid,
    )
    res = train(
        args.images,
        args.out,
        cfg,
        device=args.device,
        init_weights=args.init,
        resume=not args.no_resume,
        progress=not args.quiet,
        threads=args.threads,
        stop_after=args.stop_after,
        max_minutes=args.max_minutes,
    )
    if res["weights"] is None:
        print(f"stopped at step {res['step']}/{cfg.steps}; run the same command to resume")
    else:
        print(
            f"best validation PSNR {res['best_psnr']:.3f} dB at step {res['best_step']}; "
            f"weights: {res['weights']}"
        )
    return 0


# -------------------------------------------------------------------- evaluate
def _cmd_evaluate(args) -> int:
    import json

    from .degradations import Degradation
    from .training.evaluate import evaluate

    model = False if args.bicubic_only else args.model
    degradation = None
    if args.degradation or args.noise:
        degradation = Degradation.parse(args.degradation or "bicubic")
        if args.noise:
            degradation = Degradation(
                degradation.sampling, degradation.psf, args.noise, degradation.photons
            )
    if args.method:
        from .training.evaluate import METHODS

        unknown = [m for m in args.method if m not in METHODS]
        if unknown:
            raise CLIError(
                f"unknown --method {' '.join(unknown)}; pass any of {' '.join(METHODS)}."
            )
    table = evaluate(
        args.datasets, args.scale, model=model, device=args.device, symmetric=args.symmetric,
        degradation=degradation, methods=args.method,
    )  # fmt: skip
    print(table.to_markdown(per_image=args.per_image))
    if args.csv:
        args.csv.write_text(table.to_csv(per_image=args.per_image))
    if args.markdown:
        args.markdown.write_text(table.to_markdown(per_image=args.per_image) + "\n")
    if args.json:
        args.json.write_text(json.dumps(table.records(per_image=args.per_image), indent=1))
    return 0


# ------------------------------------------------------------------------ info
def _cmd_info(args) -> int:
    import platform

    import numpy
    import skimage
    import torch

    from . import __version__
    from ._device import available_devices
    from ._plan import plane_grid
    from .models.registry import list_models, model_info, pick_model_for_scale

    print(f"srcnn-plugin {__version__}")
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}, scikit-image {skimage.__version__}"
    )
    print(f"devices: {', '.join(available_devices())}")
    print("bundled models:")
    for name in list_models():
        info = model_info(name)
        top = max(info["scales"])
        chosen = pick_model_for_scale(top, None, plane_grid(top))
        mark = " (default for its factor)" if chosen == name else ""
        scales = ", ".join(_fmt(s) for s in info["scales"])
        told = [w for w in ("noise", "blur") if info.get(f"{w}_aware")]
        extra = f", told {' and '.join(told)}" if told else ""
        family = info.get("family", "paper")
        print(f"  {name}{mark}: SRCNN {info['architecture']}, scales {scales}, "
              f"{family} family{extra}")  # fmt: skip
        for row in info.get("metrics", []):
            print(
                f"    {row['dataset']} x{_fmt(row['scale'])} {row['method']}: "
                f"PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.4f}"
            )
    return 0


# ---------------------------------------------------------------------- parser
_EXAMPLES = {
    "upscale": """examples:
  srcnn-plugin upscale --sample --scale 2              # bundled sample -> ./butterfly_lr_x2_x2.png
  srcnn-plugin upscale cells.tif --scale 2            # -> cells_x2.tif (Y and X doubled)
  srcnn-plugin upscale data/ -o up/ --scale 2 --glob '*.tif' --recursive --skip-existing
  srcnn-plugin upscale stack.tif --scale 1 2 2        # per-axis factors (Z Y X)
  srcnn-plugin upscale --list files.txt --scale 3 --dry-run
  srcnn-plugin upscale noisy.tif --scale 2 --psf-sigma 1.2 --adapt   # fine-tune on it first
  srcnn-plugin upscale stack.ome.tif --isotropic      # Z factor from the metadata
  srcnn-plugin upscale stack.tif --isotropic --z-factor 5 --no-adapt   # the Z model as it is""",
    "adapt": """examples:
  srcnn-plugin adapt cells/*.tif --scale 2 --psf-sigma 1.2 -o cells_x2.pt
  srcnn-plugin upscale cells/ --scale 2 --model cells_x2.pt -o up/
  srcnn-plugin adapt stack.tif --scale 3 --seconds 120 -o stack_x3.pt   # PSF: pixels only""",
    "train": """examples:
  srcnn-plugin train T91/ BSD200/ --out runs/x234 --scales 2 3 4 --steps 45000
  srcnn-plugin train my_images/ --out runs/mine --scales 2 --init srcnn-9-5-5-x2 --steps 5000
  srcnn-plugin train stacks/ --out runs/em --scales 2 --init srcnn-9-5-5-x2 --channels each
  srcnn-plugin train imgs/ --out runs/g --scales 3 --device cuda --patch 48 --batch 128
  srcnn-plugin train imgs/ --out runs/a --max-minutes 60   # rerun the same to resume""",
    "evaluate": """examples:
  srcnn-plugin evaluate Set5 Set14 --scale 2 3 4
  srcnn-plugin evaluate Set5 --scale 3 --model runs/x3/model.pt --per-image --csv set5.csv
  srcnn-plugin evaluate Set5 --scale 4 --symmetric   # as rescale runs the model
  srcnn-plugin evaluate Set5 Set14 --scale 3 --method bicubic sparse-coding srcnn""",
    "train-sc": """examples:
  srcnn-plugin train-sc T91 --scale 3 -o sc-x3.npz
  srcnn-plugin evaluate Set5 --scale 3 --method sparse-coding  # the bundled pair""",
    "info": """examples:
  srcnn-plugin info""",
}


def _common(p, device=True):
    g = p.add_argument_group("output control")
    g.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    g.add_argument("-v", "--verbose", action="count", default=0, help="more detail")
    g.add_argument("--debug", action="store_true", help="show tracebacks")
    if device:
        p.add_argument(
            "--device", default=None, help="cpu, cuda, cuda:N or mps (default: best available)"
        )


def _degradation_arg(p) -> None:
    from .degradations import SAMPLINGS

    p.add_argument(
        "--degradation",
        default="binning",
        choices=SAMPLINGS,
        help="how the images were sampled, for adaptation (default: binning, a camera)",
    )


def _acquisition_args(p) -> None:
    p.add_argument(
        "--noise",
        type=_noise_arg,
        default="auto",
        help="noise standard deviation in the image's units (0: clean), 'auto' to "
        "measure it per channel (default), 'poisson' to measure shot noise and tell it "
        "per pixel (photon-limited data), or 'poisson:GAIN[,OFFSET[,READ]]' to state it "
        "(camera gain per photo-electron, baseline and read noise, in image units); told "
        "to the noise-aware models",
    )
    p.add_argument(
        "--psf-sigma",
        type=_psf_arg,
        help="Gaussian PSF sigma to undo, in output pixels (0: pixel integration only; "
        "default: the model's); for the blur-aware default models",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the CLI)."""
    from . import __version__
    from .training.data import CHANNEL_MODES

    ap = argparse.ArgumentParser(
        prog="srcnn-plugin", description="SRCNN super-resolution for scientific images."
    )
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "upscale",
        help="upscale image files",
        epilog=_EXAMPLES["upscale"],
        formatter_class=fmt,
        description="Upscale TIFF/PNG/JPEG/BMP files; never overwrites "
        "without --overwrite, writes atomically.",
    )
    p.add_argument("inputs", nargs="*", help="image files or folders")
    p.add_argument("--list", type=Path, help="text file with one input path per line")
    p.add_argument(
        "--sample",
        action="store_true",
        help="add the bundled sample image (butterfly, 128x128 RGB) to the inputs",
    )
    p.add_argument("--glob", default="*", help="pattern for files in folders (default: *)")
    p.add_argument("-r", "--recursive", action="store_true", help="search folders recursively")
    p.add_argument(
        "-s",
        "--scale",
        type=float,
        nargs="+",
        help="one factor for Y and X, or one per spatial axis (required unless --isotropic)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output folder (with -r the input folders' tree is kept under it), or a file "
        "name for a single input (default: next to each input)",
    )
    p.add_argument("--suffix", help="added to output names (default: _x<scale>)")
    p.add_argument(
        "--channel-axis", default="auto", help="'auto' (from metadata), 'none' or an axis index"
    )
    p.add_argument(
        "--color-mode",
        default="auto",
        choices=["auto", "channels", "ycbcr"],
        help="auto: ycbcr for 8-bit RGB PNG/JPEG/BMP, channels otherwise",
    )
    p.add_argument(
        "--model",
        help="bundled model name, family ('acquisition': the default, for real microscopy; "
        "'paper': the paper's bicubic-trained models; 'fast': the 9-1-5 network, several "
        "times faster, for big data; 'paper-fast': the paper's 9-1-5) or weights file",
    )
    _acquisition_args(p)
    p.add_argument(
        "--adapt",
        action="store_true",
        help="fine-tune the model on each image first (no ground truth needed; uses "
        "--psf-sigma, --noise and --degradation; see 'srcnn-plugin adapt')",
    )
    p.add_argument(
        "--adapt-seconds",
        type=float,
        default=60.0,
        help="adaptation time budget per image (--adapt, --isotropic; default 60)",
    )
    p.add_argument(
        "--adapt-steps",
        type=int,
        default=600,
        help="most adaptation steps per image (default 600; a run ending by steps is reproducible)",
    )
    _degradation_arg(p)
    p.add_argument(
        "--isotropic",
        action="store_true",
        help="make Z-stacks isotropic: super-resolve Z only, learning from the stack's own "
        "XY planes (output suffix _iso)",
    )
    p.add_argument(
        "--z-factor",
        type=float,
        help="with --isotropic: Z spacing / pixel size (default: from ImageJ/OME metadata)",
    )
    p.add_argument(
        "--axial-sigma",
        type=_psf_arg,
        help="with --isotropic: axial PSF sigma in XY pixels (default: Z factor / 2)",
    )
    p.add_argument(
        "--no-adapt",
        action="store_true",
        help="with --isotropic: use the bundled Z model as it is, without learning from the "
        "stack (seconds instead of a minute per stack; see the isotropic guide for the gain)",
    )
    p.add_argument("--tile-size", type=int, help="output tile side (default: automatic)")
    p.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--float", action="store_true", help="write float32 instead of input dtype")
    p.add_argument(
        "--fast",
        action="store_true",
        help="one network pass instead of the symmetric two (2x faster)",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        choices=ENSEMBLES,
        help="network passes averaged per tile (default 2; 8: every rotation and mirror, "
        "4x the time); overrides --fast",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose output exists (resume a batch)",
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would be written")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="upscale N files at a time in local worker processes (dask.distributed)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the batch on this dask.distributed scheduler (e.g. tcp://host:8786)",
    )
    _common(p)
    p.set_defaults(func=_cmd_upscale)

    p = sub.add_parser(
        "train",
        help="train an SRCNN on your images",
        epilog=_EXAMPLES["train"],
        formatter_class=fmt,
        description="Train (or fine-tune) an SRCNN; checkpoints in --out, resumes automatically.",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders")
    p.add_argument("--out", type=Path, required=True, help="run folder")
    p.add_argument("--scales", type=float, nargs="+", default=[2, 3, 4])
    p.add_argument("--arch", default="9-5-5", choices=["9-1-5", "9-3-5", "9-5-5"])
    p.add_argument("--no-residual", action="store_true", help="plain (paper) output layer")
    p.add_argument(
        "--lr-grid",
        action="store_true",
        help="compute on the low-resolution grid (the first layer strides by the factor, "
        "the last makes its sub-pixel phases): for one integer --scales, --patch a "
        "multiple of it; serves exactly that factor",
    )
    p.add_argument("--patch", type=int, default=33)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument(
        "--hr-scales",
        type=float,
        nargs="+",
        default=[1.0],
        help="also train on copies of the images shrunk by these factors, e.g. 1 0.8 0.6 "
        "(scale augmentation; the validation images are never shrunk)",
    )
    p.add_argument(
        "--channels",
        choices=CHANNEL_MODES,
        default="auto",
        help="8-bit RGB trains on Y (auto, luma) or on R, G and B (each); other images "
        "(12/16-bit, float, fluorescence channels) on every channel (auto, each) or on Y "
        "(luma). Non-8-bit planes are scaled from their own min/max, as rescale does; "
        "Z-stacks and time series give one plane per slice",
    )
    p.add_argument(
        "--val-channels",
        choices=CHANNEL_MODES,
        help="planes the validation images are scored on (default: as --channels), "
        "e.g. --channels each --val-channels luma trains on R, G, B and selects on Y",
    )
    p.add_argument(
        "--degradation",
        nargs="+",
        metavar="SPEC",
        help="train on random acquisitions instead of the paper's bicubic: specs such as "
        "'bicubic' 'psf=0-0.75+binning+noise=0-0.05' (psf in multiples of the factor, "
        "noise as a fraction of the range, ranges drawn uniformly; see "
        "srcnn_plugin.degradations)",
    )
    p.add_argument(
        "--variants", type=int, default=4, help="recordings per image with --degradation"
    )
    p.add_argument("--clean", type=float, default=0.25, help="fraction of noise-free recordings")
    p.add_argument(
        "--hr-blur",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="with --degradation: band-limit each recording's ground truth (and the "
        "validation truths) by a Gaussian of sigma drawn from [0, SIGMA] HR pixels, as a "
        "microscope's optics band-limit its images (the default models: 1.5)",
    )
    p.add_argument(
        "--contrast",
        type=float,
        default=0.0,
        metavar="GAIN",
        help="low-contrast augmentation: half of the patches scaled toward the range's floor "
        "by a gain drawn log-uniformly from [GAIN, 1], the noise told alike (images whose "
        "range a few bright objects stretch; 0: off)",
    )
    p.add_argument(
        "--noise-aware",
        action="store_true",
        help="give the network its input's measured noise level (the bundled default models)",
    )
    p.add_argument(
        "--noise-map",
        action="store_true",
        help="with --noise-aware: tell the noise per pixel, from each recording's fitted "
        "shot-noise line (as rescale's noise='poisson'), for mixtures with photons=",
    )
    p.add_argument(
        "--blur-aware",
        action="store_true",
        help="give the network the PSF of the acquisition (psf/factor, input pixels)",
    )
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-min", type=float, default=1e-5)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--checkpoint-every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", help="start from a bundled model or weights file")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing last.pt")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--stop-after", type=int, help="stop after this many steps (resumable)")
    p.add_argument("--max-minutes", type=float, help="stop after this long (resumable)")
    _common(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="PSNR/SSIM with the paper's protocol",
        epilog=_EXAMPLES["evaluate"],
        formatter_class=fmt,
    )
    p.add_argument("datasets", nargs="+", type=Path, help="folders of HR test images")
    p.add_argument("-s", "--scale", type=float, nargs="+", default=[2, 3, 4])
    p.add_argument("--model", help="bundled model name or weights file (default: bundled)")
    p.add_argument("--bicubic-only", action="store_true")
    p.add_argument(
        "--degradation",
        metavar="SPEC",
        help="record the LR images this way instead of the paper's bicubic, e.g. "
        "'psf=1+binning' (psf in output pixels; see srcnn_plugin.degradations)",
    )
    p.add_argument(
        "--noise",
        type=float,
        help="Gaussian read noise as a fraction of each image's range, e.g. 0.01",
    )
    p.add_argument(
        "--method",
        nargs="+",
        metavar="METHOD",
        help="compare methods side by side (bicubic, sparse-coding, srcnn), each timed per "
        "image (seconds column); "
        "sparse-coding uses the bundled dictionaries (pip install 'srcnn-plugin[baselines]')",
    )
    p.add_argument("--per-image", action="store_true")
    p.add_argument(
        "--symmetric",
        action="store_true",
        help="score the network as rescale runs it (averaged with its 180° rotated pass); "
        "the paper scores the network alone",
    )
    p.add_argument("--csv", type=Path)
    p.add_argument("--markdown", type=Path)
    p.add_argument("--json", type=Path)
    _common(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser(
        "train-sc",
        help="learn a sparse-coding dictionary pair (the paper's conventional baseline)",
        epilog=_EXAMPLES["train-sc"],
        formatter_class=fmt,
        description="Learn the coupled dictionaries of sparse-coding super-resolution "
        "(Yang et al. 2010) on 8-bit images, as the bundled ones were (see the model card).",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders (e.g. T91)")
    p.add_argument("-s", "--scale", type=float, required=True, help="upscaling factor")
    p.add_argument("-o", "--output", type=Path, required=True, help="dictionary file (.npz)")
    p.add_argument("--atoms", type=int, default=1024, help="dictionary size (default: 1024)")
    p.add_argument("--samples", type=int, default=100_000, help="patch pairs (default: 100000)")
    p.add_argument("--lam", type=float, default=0.15, help="sparsity when learning (0.15)")
    p.add_argument("--iterations", type=int, default=1000, help="mini-batches of 512 (1000)")
    p.add_argument(
        "--hr-weight", type=float, default=1.0, help="weight of the HR part (default: 1)"
    )
    p.add_argument("--seed", type=int, default=0)
    _common(p)
    p.set_defaults(func=_cmd_train_sc)

    p = sub.add_parser(
        "adapt",
        help="fine-tune a model on your own images (no ground truth needed)",
        epilog=_EXAMPLES["adapt"],
        formatter_class=fmt,
        description="Adapt the bundled model to images of one microscope: the images, "
        "recorded once more the way they were acquired (PSF, sampling, their own noise), "
        "teach it their relation to finer ones. Writes a weights file for --model.",
    )
    p.add_argument("images", nargs="+", type=Path, help="image files or folders")
    p.add_argument("--glob", default="*", help="pattern for files in folders (default: *)")
    p.add_argument("-r", "--recursive", action="store_true", help="search folders recursively")
    p.add_argument("-s", "--scale", type=float, required=True, help="factor of Y and X")
    p.add_argument("-o", "--output", type=Path, required=True, help="weights file to write (.pt)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing -o file")
    p.add_argument("--model", help="model to start from (default: the default for the factor)")
    p.add_argument(
        "--channel-axis", default="auto", help="'auto' (from metadata), 'none' or an axis index"
    )
    _acquisition_args(p)
    _degradation_arg(p)
    p.add_argument("--seconds", type=float, default=60.0, help="time budget (default: 60)")
    p.add_argument("--steps", type=int, default=600, help="most optimiser steps (default: 600)")
    p.add_argument("--seed", type=int, default=0)
    _common(p)
    p.set_defaults(func=_cmd_adapt)

    p = sub.add_parser(
        "info",
        help="versions, devices and bundled models",
        epilog=_EXAMPLES["info"],
        formatter_class=fmt,
    )
    _common(p, device=False)
    p.set_defaults(func=_cmd_info)
    return ap


def main(argv=None) -> int:
    """Entry point of the ``srcnn-plugin`` command."""
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else (logging.INFO if args.verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(message)s")
    # A file tifffile cannot parse is reported by us, once and plainly; its own log
    # lines only show with --debug.
    logging.getLogger("tifffile").setLevel(logging.DEBUG if args.debug else logging.CRITICAL)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        msg = str(exc) if isinstance(exc, CLIError) else f"{type(exc).__name__}: {exc}"
        print(f"error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

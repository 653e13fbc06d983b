"""``conveyor.Loader``: a rank's batches from Conveyor, through a shared-memory ring."""

import json
import logging
import os
import time
import weakref
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence, Union

from ._attach import AttachedNode
from ._batch import Batch
from ._node import LocalNode, NodeError
from ._ring import Ring
from ._shared import SharedNode

log = logging.getLogger("conveyor")

STATE_VERSION = 1
_DECODES = ("none", "auto")


class Loader:
    """An iterable of one rank's batches, decoded and collated by a Conveyor node.

    ``job`` is a HOCON job file (as for ``conveyor run``); the keyword arguments override it as
    the CLI's flags do: ``shards`` (a pattern with brace expansion, ``s3://`` or ``file://``),
    ``rank`` and ``world``, ``batch_size``, ``epochs``, ``seed``, ``decode`` ("auto" or "none"),
    and ``settings``, a dict of any other settings (``{"conveyor.s3.endpoint": "http://..."}``).

    ``shards`` is a pattern (``"s3://bucket/train-{000..099}.tar"``), a ``shards.json`` URI, or a
    list of shard URIs or local paths, as WebDataset takes them. ``sources`` mixes several instead
    (never both): ``[{"shards": ..., "weight": 0.7, "name": "web"}, {"shards": ..., "weight": 0.3,
    "repeat": True}]``, every batch holding each source's share within one sample (``mix=
    "per-source"``: whole batches from one source in turns) — ``conveyor.job.sources`` of a job
    file. ``classpath`` (jars or class folders) holds a job's pipeline classes
    (``conveyor.job.pipeline``, e.g. one that tokenizes and packs tokens: ``conveyor.job.pack``,
    rows as int32 arrays with their ``_segments``). ``full_batches=True`` makes every batch ``batch_size`` samples however many a filter or
    a bad sample leaves out: an epoch then has as many batches as the rank with the fewest kept
    samples fills (``conveyor.job.full-batches``). ``rank`` and ``world`` default to
    ``RANK`` and ``WORLD_SIZE`` from the environment (as ``torchrun`` sets them), else 0 and 1.

    Without ``node`` the loader starts a Conveyor node process for this rank (``java -jar`` the
    jar this package carries, or a checkout's: ``conveyor_home``, ``$CONVEYOR_HOME`` or the one
    this package is in) when iteration starts, and stops it on ``close()``, on garbage collection
    and at exit; if this process dies, even by SIGKILL, the node notices its pipe closing and exits
    at once. When every rank of the job is on this machine (``LOCAL_WORLD_SIZE == WORLD_SIZE``,
    as under ``torchrun --nproc_per_node N`` on one host), the ranks share one node: the first to
    iterate starts it, the others attach, and if any rank's process dies the others' next batch
    raises ``NodeError`` (``share=False`` gives each rank a node of its own). With
    ``node="HOST:PORT"`` (a trainer-host node's HTTP address) it attaches to a running cluster,
    whose job — submitted with ``conveyor run --cluster`` — feeds this rank through the ring.

    Each batch's arrays view the ring's memory until the next batch is asked for (or
    ``batch.release()``); ``copy=True`` hands out copies instead, for batches kept longer.
    ``state_dict()`` is the cursor after the last batch handed out; a new Loader given it through
    ``load_state_dict()`` before iterating resumes exactly there, at any ``world``.
    """

    def __init__(self, job: Optional[Union[str, "os.PathLike[str]"]] = None, *,
                 shards: Optional[Union[str, Sequence[str]]] = None,
                 sources: Optional[Sequence[Mapping[str, Any]]] = None, mix: Optional[str] = None,
                 full_batches: Optional[bool] = None, classpath: Optional[Sequence[str]] = None, rank: Optional[int] = None,
                 world: Optional[int] = None, batch_size: Optional[int] = None, epochs: Optional[int] = None,
                 seed: Optional[int] = None, decode: Optional[str] = None,
                 settings: Optional[Mapping[str, Any]] = None, node: Optional[str] = None, copy: bool = False,
                 ring_dir: Optional[Union[str, "os.PathLike[str]"]] = None, timeout: float = 600.0,
                 start_timeout: float = 600.0, conveyor_home: Optional[str] = None,
                 java_opts: Optional[str] = None, verbose: bool = False, share: Optional[bool] = None) -> None:
        if job is not None:
            if not isinstance(job, (str, os.PathLike)):
                raise ValueError(f"job: a path to a HOCON job file, got {type(job).__name__}")
            if not os.path.isfile(job):
                raise ValueError(f"job: no such file {os.fspath(job)!r}")
        if shards is not None:
            shards = shard_pattern(shards)
        if shards is not None and sources is not None:
            raise ValueError("sources: a job reads shards= or mixes sources=, not both")
        if sources is not None:
            sources = _sources(sources)
        if mix is not None and mix not in _MIXES:
            raise ValueError(f"mix: one of {', '.join(_MIXES)}, got {mix!r}")
        if classpath is not None and (isinstance(classpath, str) or not all(isinstance(c, (str, os.PathLike))
                                                                               for c in classpath)):
            raise ValueError(f"classpath: a list of jars or class folders, got {classpath!r}")
        if full_batches is not None and not isinstance(full_batches, bool):
            raise ValueError(f"full_batches: True or False, got {full_batches!r}")
        if job is None and shards is None and sources is None and node is None:
            raise ValueError("shards: give shards=PATTERN, sources=[...] or a job file (job=PATH)")
        rank, world, told = _rank_and_world(rank, world)
        _int("world", world, 1)
        _int("rank", rank, 0)
        if rank >= world:
            raise ValueError(f"rank: must be below world={world}, got {rank}")
        for name, value, low in (("batch_size", batch_size, 1), ("epochs", epochs, 1)):
            if value is not None:
                _int(name, value, low)
        if seed is not None:
            _int("seed", seed, None)
        if decode is not None and decode not in _DECODES:
            raise ValueError(f"decode: one of {', '.join(_DECODES)}, got {decode!r}")
        if settings is not None and (not isinstance(settings, dict)
                                     or not all(isinstance(k, str) and k for k in settings)):
            raise ValueError("settings: a dict of setting names to values, "
                             "e.g. {'conveyor.s3.endpoint': 'http://127.0.0.1:9000'}")
        if node is not None and (not isinstance(node, str) or ":" not in node):
            raise ValueError(f"node: 'HOST:PORT' of a trainer-host node's HTTP server, got {node!r}")
        if node is not None:
            given = [name for name, value in (("job", job), ("shards", shards), ("sources", sources), ("mix", mix),
                                               ("full_batches", full_batches), ("classpath", classpath),
                                               ("batch_size", batch_size),
                                               ("epochs", epochs), ("seed", seed), ("decode", decode),
                                               ("settings", settings)) if value is not None]
            if given:
                raise ValueError(f"{given[0]}: with node=, the job is the one submitted to the cluster "
                                 "(`conveyor run JOB.conf --cluster HOST:PORT`); give its settings there")
        for name, value in (("timeout", timeout), ("start_timeout", start_timeout)):
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{name}: seconds, above 0, got {value!r}")
        self._args = dict(job=job, shards=shards, rank=rank, world=world, batch_size=batch_size, epochs=epochs,
                          seed=seed, decode=decode, settings=dict(settings or {}),
                          classpath=":".join(os.fspath(c) for c in classpath) if classpath else None)
        if sources is not None:
            self._args["settings"]["conveyor.job.sources"] = sources
        if mix is not None:
            self._args["settings"]["conveyor.job.mix"] = mix
        if full_batches is not None:
            self._args["settings"]["conveyor.job.full-batches"] = full_batches
        if ring_dir is not None:
            self._args["settings"]["conveyor.node.trainer-ring.dir"] = os.fspath(ring_dir)
        self.rank = rank
        self.world = world
        self._share = _shared_machine(world, share) and node is None
        self._ring_dir = os.fspath(ring_dir) if ring_dir is not None else _default_ring_dir()
        if told or self._share:
            log.info("conveyor.Loader: rank %d of %d%s%s", rank, world, f" ({told})" if told else "",
                     "; the machine's ranks share one node" if self._share else "")
        self._node_address = node
        self._copy = copy
        self._timeout = timeout
        self._start_timeout = start_timeout
        self._home = conveyor_home
        self._java_opts = java_opts
        self._verbose = verbose
        self._resume = None
        self._cursor = None
        self._node = None
        self._ring = None
        self._started = False
        self._ended = False
        self._batches = 0
        self._samples = 0
        self._sources: Dict[str, Dict[str, int]] = {}
        self._bytes = 0
        self._first_at = None
        self._iter_at = None
        self._startup = None
        self._end_at = None
        self._last_stall = 0.0
        self._finalizer = weakref.finalize(self, Loader._shut, [None, None])

    # -- state ------------------------------------------------------------------------------

    def state_dict(self) -> Dict[str, Any]:
        """``{"version": 1, "cursor": "cv1..."}`` (``cv2...`` with full batches): where this rank stands after
        the last batch handed out.

        Before the first batch it is the cursor loaded with ``load_state_dict`` (None: the start).
        """
        return {"version": STATE_VERSION, "cursor": self._cursor if self._cursor is not None else self._resume}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resumes from ``state`` (a ``state_dict()``), also at another world size; call before iterating."""
        if self._started:
            raise RuntimeError("load_state_dict() after iteration started would be ignored: make a new Loader, "
                               "call load_state_dict() on it, then iterate")
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION or "cursor" not in state:
            raise ValueError(f"state: a Loader.state_dict() of version {STATE_VERSION}, got {state!r}")
        cursor = state["cursor"]
        if cursor is not None and (not isinstance(cursor, str) or not cursor.startswith(("cv1.", "cv2."))):
            raise ValueError(f"state: its cursor is not a Conveyor cursor token (cv1... or cv2...): {cursor!r}")
        self._resume = cursor

    # -- iteration --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Batch]:
        if self._started and not self._ended:
            return self  # iter() of the iterator itself: go on
        if self._started:
            raise RuntimeError("this Loader has ended: a Loader iterates once (epochs= sets the passes over the "
                               "data); to go on from where one stopped, make a new Loader and "
                               "load_state_dict(old.state_dict())")
        if self._node_address is not None and self._resume is not None:
            raise RuntimeError("with node=, the cluster's job resumes, not the loader: submit it with "
                               "`conveyor run --resume CURSOR --cluster HOST:PORT` (the cursor from state_dict())")
        self._started = True
        self._iter_at = time.perf_counter()
        self._start()
        return self

    def __next__(self) -> Batch:
        if not self._started:
            iter(self)
        if self._ended:
            raise StopIteration
        if self._share:
            self._node.check()  # another rank's process went away: this one's next batch says so at once
        slot = self._ring.next(timeout=self._timeout, alive=self._node.check)
        if slot is None:
            self._ended = True
            self._end_at = time.perf_counter()
            self._finish()
            raise StopIteration
        batch = Batch(slot, self._copy)
        if self._first_at is None:
            self._first_at = time.perf_counter()
            self._startup = self._first_at - self._iter_at
        self._cursor = batch.cursor
        self._batches += 1
        self._samples += len(batch["__keys__"])
        for name, counts in (batch.sources or {}).items():
            total = self._sources.setdefault(name, {"samples": 0, "filtered": 0, "bad": 0})
            for what in total:
                total[what] += counts.get(what, 0)
        self._bytes += batch.nbytes
        return batch

    def _start(self):
        if self._node_address is not None:
            self._node = AttachedNode(self._node_address, self.rank)
        elif self._share:
            self._node = SharedNode(self._feed_args(shared=True), self.rank, self._ring_dir, self._start_timeout,
                                    home=self._home, java_opts=self._java_opts, echo=self._verbose)
        else:
            self._node = LocalNode(self._feed_args(), home=self._home, java_opts=self._java_opts,
                                   echo=self._verbose)
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, Loader._shut, [self._node, None])
        announced = self._node.ring(self._start_timeout)
        self._ring = Ring(announced["path"])
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, Loader._shut, [self._node, self._ring])

    def _feed_args(self, shared=False):
        a = self._args
        args = [os.fspath(a["job"])] if a["job"] is not None else []
        for flag, key in (("--shards", "shards"), ("--world", "world"), ("--rank", None if shared else "rank"),
                          ("--batch-size", "batch_size"), ("--epochs", "epochs"), ("--seed", "seed"),
                          ("--decode", "decode"), ("--classpath", "classpath")):
            if key is not None and a[key] is not None:
                args += [flag, str(a[key])]
        for key, value in a["settings"].items():
            args += ["--set", f"{key}={_hocon(value)}"]
        if self._resume is not None:
            args += ["--resume", self._resume]
        return args

    def _finish(self):
        """The rank ended: lets the node finish (it exits by itself once its job is done)."""
        if isinstance(self._node, SharedNode):
            self._node.done()
        elif isinstance(self._node, LocalNode):
            code = self._node.wait(30)
            if code not in (None, 0):
                self._node.check()

    # -- figures and shutdown ---------------------------------------------------------------

    def stats(self) -> Dict[str, Any]:
        """What this loader handed out and how long the caller waited for it.

        ``batches``, ``samples``, ``bytes`` (of the batches' arrays); ``stall_s``, the time spent
        waiting for a batch from the second on, and ``stall_pct``, its share of ``wall_s`` (from the
        first batch to the last, or to now); ``startup_s``, from the start of iteration to the first
        batch (the node's start-up); for a mix, ``sources``: per source name, the ``samples``,
        ``filtered`` and ``bad`` samples of the batches handed out.
        """
        stall = self._stall_seconds()
        if self._first_at is None:
            wall = 0.0
        else:
            wall = (self._end_at if self._end_at is not None else time.perf_counter()) - self._first_at
        return {"batches": self._batches, "samples": self._samples, "bytes": self._bytes,
                "stall_s": stall, "stall_pct": 100.0 * stall / wall if wall > 0 else 0.0, "wall_s": wall,
                "startup_s": self._startup, **({"sources": {n: dict(c) for n, c in self._sources.items()}}
                                               if self._sources else {})}

    def _stall_seconds(self):
        ring = self._ring
        if ring is not None:
            self._last_stall = ring.stall_seconds
        return self._last_stall

    def close(self) -> None:
        """Stops the node process (if this loader started one) and unmaps the ring."""
        self._stall_seconds()
        self._finalizer()
        self._ring = None
        self._ended = True

    @staticmethod
    def _shut(parts):
        node, ring = parts
        if ring is not None:
            try:
                ring.close()
            except BufferError:
                pass  # arrays the caller still holds keep the mapping alive; it goes with them
        if node is not None:
            node.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def shard_pattern(shards: Union[str, Sequence[str]]) -> str:
    """The ``--shards`` pattern for a pattern, a ``shards.json`` URI, or a list of URIs or local paths."""
    if isinstance(shards, (str, os.PathLike)):
        names = [os.fspath(shards)]
    elif isinstance(shards, Sequence) and shards and all(isinstance(s, (str, os.PathLike)) for s in shards):
        names = [os.fspath(s) for s in shards]
    else:
        raise ValueError("shards: a pattern such as 's3://bucket/train-{000..099}.tar', a shards.json URI, or a "
                         f"non-empty list of shard URIs or paths, got {shards!r}")
    uris = []
    for name in names:
        if not name.strip():
            raise ValueError(f"shards: an empty shard name in {shards!r}")
        uris.append(name if "://" in name else "file://" + os.path.abspath(name))
    if len(uris) == 1:
        return uris[0]
    for uri in uris:
        if any(c in uri for c in "{},"):
            raise ValueError(f"shards: in a list, a shard's name cannot hold '{{', '}}' or ',': {uri!r} "
                             "(give a pattern instead)")
    return "{" + ",".join(uris) + "}"


def _rank_and_world(rank, world):
    """``rank`` and ``world``, each from the environment (``RANK``, ``WORLD_SIZE``) when not given; and what was taken."""
    told = []
    if rank is None:
        rank = _env_int("RANK", 0)
        if "RANK" in os.environ:
            told.append(f"RANK={rank}")
    if world is None:
        world = _env_int("WORLD_SIZE", 1)
        if "WORLD_SIZE" in os.environ:
            told.append(f"WORLD_SIZE={world}")
    return rank, world, ("from the environment: " + ", ".join(told)) if told else ""


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}: the environment holds {value!r}, not an integer") from None


def _shared_machine(world, share):
    """Whether this job's ranks share one node: every rank on this machine (``LOCAL_WORLD_SIZE == world``)."""
    if share is not None:
        if not isinstance(share, bool):
            raise ValueError(f"share: True, False or None (the environment decides), got {share!r}")
        return share and world > 1
    local = os.environ.get("LOCAL_WORLD_SIZE")
    return world > 1 and local is not None and local.strip() == str(world)


def _default_ring_dir():
    return "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp"


def _int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: an integer, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name}: at least {low}, got {value}")


def _hocon(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)  # HOCON reads JSON
    return str(value)


_MIXES = ("stratified", "per-source")
_SOURCE_KEYS = {"shards", "weight", "repeat", "name"}


def _sources(sources):
    """``sources=`` checked and made plain: [{"shards": PATTERN, "weight": W, "repeat": bool, "name": str}, ...]."""
    if isinstance(sources, (str, bytes)) or not isinstance(sources, Sequence) or not sources:
        raise ValueError("sources: a list of dicts, e.g. [{'shards': 'file:///a/shards.json', 'weight': 0.7}, ...]")
    out = []
    for i, src in enumerate(sources):
        if not isinstance(src, Mapping):
            raise ValueError(f"sources[{i}]: a dict with shards, weight, repeat and name, got {type(src).__name__}")
        unknown = sorted(set(src) - _SOURCE_KEYS)
        if unknown:
            raise ValueError(f"sources[{i}].{unknown[0]}: not a source setting (shards, weight, repeat, name)")
        if "shards" not in src:
            raise ValueError(f"sources[{i}].shards: required, the source's shards")
        plain = {"shards": shard_pattern(src["shards"])}
        if "weight" in src:
            w = src["weight"]
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0 or w == float("inf"):
                raise ValueError(f"sources[{i}].weight: a positive number, got {w!r}")
            plain["weight"] = float(w)
        if "repeat" in src:
            if not isinstance(src["repeat"], bool):
                raise ValueError(f"sources[{i}].repeat: True or False, got {src['repeat']!r}")
            plain["repeat"] = src["repeat"]
        if "name" in src:
            if not isinstance(src["name"], str) or not src["name"]:
                raise ValueError(f"sources[{i}].name: a non-empty string, got {src['name']!r}")
            plain["name"] = src["name"]
        out.append(plain)
    return out


__all__ = ["Loader", "NodeError", "STATE_VERSION"]

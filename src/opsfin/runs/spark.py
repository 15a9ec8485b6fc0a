"""The scale path: the same Ibis engine code on a local PySpark session (docs/scale.md). I/O layer: the
engines only receive the `Tables` this opens (`tables.open_tables(ws, "spark")`).

`spark_tables(ws)` exports the workspace's canonical tables to Parquet (`opsfin export parquet`,
one file per table) in a cache folder inside the workspace, `.spark-cache/<fingerprint>/`, where the
fingerprint hashes the warehouse's loads, row counts and columns. The export is reused while the
warehouse is unchanged; a new ingest gives a new folder and the older ones are pruned.

A local SparkSession is started once per process (master `local[2]`, 4 shuffle partitions, no UI,
session time zone UTC so that naive timestamps stay as they are) and reused. Each cache folder gets
its own child session (`newSession()`: same JVM, its own temporary views), in which a table becomes
a temporary view named like the table the first time the engine reads it. An already active
SparkSession (one the caller built) is used as the parent instead of starting a local one; the
cache folder is a local path, so its executors must see the workspace's file system.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from ..errors import UserError
from ..kpis.engine import Tables
from .parquet import export_parquet, warehouse_fingerprint

CACHE_DIR = ".spark-cache"
KEEP_CACHES = 2  # the current export and the one before (a query may still be reading it)
COMPLETE = "_COMPLETE"  # marker written last: a folder without it is an interrupted export

SPARK_CONF = {
    "spark.master": "local[2]",
    "spark.app.name": "opsfin",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.adaptive.enabled": "true",
}

INSTALL_HINT = "install the spark extra: pip install 'opsfin[spark]'"

_lock = threading.RLock()
_parent = None  # the process's SparkSession
_children: dict[str, _Views] = {}  # cache folder -> its child session and Ibis backend
STALE_TMP_SECONDS = 3600


def require_spark() -> None:
    """A clear UserError when pyspark or Java is missing."""
    try:
        import ibis.backends.pyspark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise UserError(f"the Spark engine needs PySpark ({exc.name or exc}); {INSTALL_HINT}") from None
    if java_executable() is None:
        raise UserError(
            "the Spark engine needs Java 17 and none was found (no `java` on PATH, no JAVA_HOME); "
            "install a JRE (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME, "
            f"and {INSTALL_HINT}"
        )


def java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if java.exists():
            return str(java)
    return shutil.which("java")


LOG4J2 = """# opsfin: Spark logs warnings while starting (errors only once started), on stderr
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _log_config() -> Path:
    user = os.getuid() if hasattr(os, "getuid") else os.getpid()
    path = Path(tempfile.gettempdir()) / f"opsfin-spark-log4j2-{user}.properties"
    if not path.exists() or path.read_text() != LOG4J2:
        path.write_text(LOG4J2)
    return path


def _alive(session) -> bool:
    try:
        return not session.sparkContext._jsc.sc().isStopped()
    except Exception:
        return False


def spark_session():
    """The process's SparkSession: an active one if there is one, else a local one (started once)."""
    global _parent
    require_spark()
    from pyspark.sql import SparkSession

    with _lock:
        if _parent is not None and _alive(_parent):
            return _parent
        _children.clear()  # views of a stopped session are gone
        active = SparkSession.getActiveSession()
        if active is not None:
            _parent = active
            return _parent
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python code that runs in tasks (forecasting through fugue) needs this interpreter, with its
        # packages, not whatever `python3` is first on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder
        for key, value in SPARK_CONF.items():
            builder = builder.config(key, value)
        log_option = f"-Dlog4j2.configurationFile={_log_config().as_uri()}"
        builder = builder.config("spark.driver.extraJavaOptions", log_option)
        try:
            _parent = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: a setup problem, not a bug
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UserError(
                f"could not start a local Spark session ({type(exc).__name__}: {first}); "
                f"check that Java 17 works (`java -version`) and {INSTALL_HINT}"
            ) from None
        _parent.sparkContext.setLogLevel("ERROR")
        return _parent


def parquet_cache(ws) -> Path:
    """The workspace's tables as Parquet, exported once per warehouse state."""
    root = ws.path / CACHE_DIR
    target = root / warehouse_fingerprint(ws)
    if (target / COMPLETE).exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        export_parquet(ws, tmp)
        (tmp / COMPLETE).write_text("")
        if target.exists():  # an interrupted export, or another process won the race
            if (target / COMPLETE).exists():
                return target
            shutil.rmtree(target, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / COMPLETE).exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _prune(root, keep=target)
    return target


def _prune(root: Path, keep: Path) -> None:
    """Keep the newest exports; drop temporary folders an interrupted export left behind."""
    now = time.time()
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith(".tmp-") and now - p.stat().st_mtime > STALE_TMP_SECONDS:
            shutil.rmtree(p, ignore_errors=True)
    done = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in done[KEEP_CACHES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def _spark_schema(path: Path):
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(pq.read_schema(path), prefer_timestamp_ntz=True)


class _Views:
    """One cache folder in its own child session: each table becomes a temporary view named like the
    table the first time the engine asks for it (a KPI reads a handful of the tables)."""

    def __init__(self, session, folder: Path):
        import ibis

        self.session = session
        self.folder = folder
        self.registered: set[str] = set()
        self.backend = ibis.pyspark.connect(session)

    def ensure(self, name: str) -> None:
        if name in self.registered:
            return
        with _lock:
            path = self.folder / f"{name}.parquet"
            if name not in self.registered and path.exists():
                # the schema from the file's footer (pyarrow): no Spark job to infer it
                self.session.read.schema(_spark_schema(path)).parquet(str(path)).createOrReplaceTempView(name)
                self.registered.add(name)


class SparkTables(Tables):
    """Warehouse tables on Spark; a table's view is registered on first use."""

    def __init__(self, views: _Views, base_currency: str = "EUR"):
        super().__init__(views.backend, base_currency)
        self.views = views

    def __call__(self, name: str):
        self.views.ensure(name)
        return super().__call__(name)


def spark_tables(ws) -> Tables:
    """The workspace's warehouse tables on Spark, for the KPI engine."""
    require_spark()
    folder = parquet_cache(ws)
    with _lock:
        for key in [k for k in _children if not Path(k).exists()]:  # pruned exports
            del _children[key]
        views = _children.get(str(folder))
        if views is None:
            views = _children[str(folder)] = _Views(spark_session().newSession(), folder)
    return SparkTables(views, ws.settings.base_currency)

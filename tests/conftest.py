"""Root fixtures: the two storage backends every storage and API test runs on.

Use these fixtures; any test that asks for one of them runs once per backend:

``backend``
    ``"spatialite"`` or ``"postgis"`` (parametrised; marks ``spatialite`` / ``postgis``).
``store_url``
    URL of a fresh, migrated, *empty* store for this test. SpatiaLite: a copy of a migrated
    template file in ``tmp_path``. PostGIS: a schema of the test database (one per test session
    and xdist worker, reached through ``search_path`` in the URL), truncated before each test.
    Pass it to ``make_engine``, ``Settings(database_url=...)`` or ``gridmap import --db``.
``engine``
    :func:`service.storage.session.make_engine` on ``store_url``; disposed after the test.
``session``
    A :class:`sqlalchemy.orm.Session` on ``engine``; closed after the test (uncommitted work is
    rolled back; committed work is wiped before the next test).
``make_store``
    Factory ``make_store(migrated=True) -> url`` of *another* fresh store of the same backend
    (e.g. one per file format); ``migrated=False`` gives an empty, unmigrated store.

PostGIS comes from ``GRIDMAP_TEST_POSTGIS_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_test``; the database and the ``postgis``
extension are created if missing). A backend that is unavailable is skipped locally but FAILS
the tests when ``CI=true`` or with ``--require-backends``. The header and the terminal summary of
a run say which backends were used and how many tests ran on each.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# A fixed, public test key for personal data at rest (service.storage.crypto): never a real key.
os.environ.setdefault("GRIDMAP_DATA_KEY", "dGVzdC1rZXktZ3JpZG1hcC10ZXN0cy1vbmx5LTMyYiE=")

BACKENDS = ("spatialite", "postgis")
DEFAULT_POSTGIS_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridmap_test"
_SCHEMA_PREFIX = "gmtest_"
_outcomes: dict[str, Counter[str]] = {b: Counter() for b in BACKENDS}
_status: dict[str, str] = {}


# Randomised tests draw the same examples on every run, in CI too (a test's own settings may
# still say otherwise); HYPOTHESIS_PROFILE=explore searches afresh.
hypothesis_settings.register_profile("fixed", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


# --------------------------------------------------------------------------- options & report
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-backends",
        action="store_true",
        help="Fail, not skip, tests whose backend is unavailable (default with CI=true).",
    )


def _require_backends(config: pytest.Config) -> bool:
    return bool(config.getoption("--require-backends")) or os.environ.get("CI") == "true"


def _postgis_url() -> str:
    from service.settings import normalise_database_url

    return normalise_database_url(os.environ.get("GRIDMAP_TEST_POSTGIS_URL", DEFAULT_POSTGIS_URL))


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = make_url(_postgis_url()).render_as_string(hide_password=True)
    mode = "required" if _require_backends(config) else "skipped if unavailable"
    return [f"gridmap backends: spatialite (temp files), postgis ({pg}); {mode}"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Under CI=true (or --require-backends) a skipped test is a failure: nothing may be missing."""
    report = yield
    if report.skipped and _require_backends(item.config) and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI=true requires everything the tests need: {reason}"
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    backend = _backend_of(report.nodeid)
    if backend is None:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[backend][report.outcome] += 1


def _backend_of(nodeid: str) -> str | None:
    if "[" not in nodeid:
        return None
    params = nodeid[nodeid.index("[") + 1 : -1].split("-")
    return next((b for b in BACKENDS if b in params), None)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    parts = []
    for backend in BACKENDS:
        counts = _outcomes[backend]
        ran = counts["passed"] + counts["failed"]
        detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if n) or "no tests"
        parts.append(f"{backend}: {ran} ran ({detail})")
    terminalreporter.write_sep("=", "gridmap backends used")
    terminalreporter.write_line("; ".join(parts))
    for backend, reason in _status.items():
        terminalreporter.write_line(f"{backend} unavailable: {reason}")


# --------------------------------------------------------------------------- availability
def _unavailable(config: pytest.Config, backend: str, reason: str) -> None:
    _status[backend] = reason
    message = f"{backend} backend unavailable: {reason}"
    if _require_backends(config):
        pytest.fail(message + " (required: CI=true or --require-backends)", pytrace=False)
    pytest.skip(message)


def _check_spatialite() -> str | None:
    try:
        import sqlean

        from service.storage.session import load_spatialite  # GDAL first, else exit crashes

        conn = sqlean.connect(":memory:")
        load_spatialite(conn)
        conn.close()
    except Exception as exc:  # any failure means: no SpatiaLite here
        return f"cannot load mod_spatialite through sqlean ({exc})"
    return None


def _ensure_postgis_database(url: str) -> str | None:
    """Create the test database and the postgis extension if missing; return an error or None."""
    sa_url = make_url(url)
    try:
        admin = create_engine(
            sa_url.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": sa_url.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{sa_url.database}"'))
        admin.dispose()
        eng = create_engine(sa_url, connect_args={"connect_timeout": 5})
        with eng.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            polluted = conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
        eng.dispose()
        if polluted:
            # Test stores search "<schema>,public": a migrated public schema would be taken for
            # theirs (Alembic sees its version table) and every test would share its tables.
            return (
                f"{sa_url.render_as_string(hide_password=True)}: the public schema holds a "
                "gridmap store (public.alembic_version); drop its gridmap tables, test stores "
                "live in schemas of their own"
            )
    except Exception as exc:
        return f"{sa_url.render_as_string(hide_password=True)}: {type(exc).__name__}: {exc}"
    return None


# --------------------------------------------------------------------------- store factories
class _SpatiaLiteStores:
    def __init__(self, root: Path) -> None:
        from service.storage.migrate import upgrade_database
        from service.storage.session import make_engine

        self.root = root
        self.template = root / "template.sqlite"
        self.empty_template = root / "empty.sqlite"
        engine = make_engine(f"sqlite:///{self.template}")
        upgrade_database(engine)
        engine.dispose()
        engine = make_engine(f"sqlite:///{self.empty_template}")
        with engine.connect():
            pass  # initialises the spatial metadata only
        engine.dispose()

    def new(self, *, migrated: bool = True) -> str:
        path = self.root / f"store-{uuid.uuid4().hex[:8]}.sqlite"
        shutil.copyfile(self.template if migrated else self.empty_template, path)
        return f"sqlite:///{path}"

    def reset(self, url: str) -> None:  # each test gets a new copy: nothing to reset
        pass

    def close(self) -> None:
        pass


class _PostGISStores:
    def __init__(self, base_url: str) -> None:
        self.base_url = make_url(base_url)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"{_SCHEMA_PREFIX}{worker}_{os.getpid()}_"
        self.admin = create_engine(self.base_url, isolation_level="AUTOCOMMIT")
        self.schemas: list[str] = []
        self.main = self.new()

    def _url(self, schema: str) -> str:
        url = self.base_url.update_query_dict({"options": f"-csearch_path={schema},public"})
        return url.render_as_string(hide_password=False)

    def new(self, *, migrated: bool = True) -> str:
        from service.storage.migrate import upgrade_database
        from service.storage.session import make_engine

        schema = f"{self.prefix}{len(self.schemas)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.schemas.append(schema)
        url = self._url(schema)
        if migrated:
            engine = make_engine(url)
            upgrade_database(engine)
            engine.dispose()
        return url

    def reset(self, url: str) -> None:
        options = make_url(url).query["options"]
        assert isinstance(options, str)  # one options= parameter in the URL
        schema = options.split("=", 1)[1].split(",", 1)[0]
        with self.admin.connect() as conn:
            conn.execute(text("SET lock_timeout = '20s'"))
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                    "AND tablename <> 'alembic_version'"
                ),
                {"s": schema},
            ).scalars()
            names = ", ".join(f'"{schema}"."{t}"' for t in tables)
            if names:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        with self.admin.connect() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _spatialite_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_SpatiaLiteStores]:
    reason = _check_spatialite()
    if reason:
        yield None  # type: ignore[misc]
        return
    yield _SpatiaLiteStores(tmp_path_factory.mktemp("spatialite"))


@pytest.fixture(scope="session")
def _postgis_stores() -> Iterator[_PostGISStores | str]:
    url = _postgis_url()
    reason = _ensure_postgis_database(url)
    if reason:
        yield reason
        return
    stores = _PostGISStores(url)
    yield stores
    stores.close()


# --------------------------------------------------------------------------- public fixtures
@pytest.fixture(
    params=[
        pytest.param("spatialite", marks=pytest.mark.spatialite),
        pytest.param("postgis", marks=pytest.mark.postgis),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of this test run: ``"spatialite"`` or ``"postgis"``."""
    return request.param


@pytest.fixture
def _stores(backend: str, request: pytest.FixtureRequest) -> _SpatiaLiteStores | _PostGISStores:
    if backend == "spatialite":
        stores = request.getfixturevalue("_spatialite_stores")
        if stores is None:
            _unavailable(request.config, backend, _check_spatialite() or "unknown")
        return stores
    stores = request.getfixturevalue("_postgis_stores")
    if isinstance(stores, str):
        _unavailable(request.config, backend, stores)
    return stores


@pytest.fixture
def store_url(_stores: _SpatiaLiteStores | _PostGISStores) -> str:
    """URL of a fresh, migrated, empty store of the current backend."""
    if isinstance(_stores, _PostGISStores):
        _stores.reset(_stores.main)
        return _stores.main
    return _stores.new()


@pytest.fixture
def make_store(_stores: _SpatiaLiteStores | _PostGISStores) -> Callable[..., str]:
    """Factory of further fresh stores: ``make_store(migrated=True) -> url``."""
    return _stores.new


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on ``store_url`` (``make_engine``), disposed after the test."""
    from service.storage.session import make_engine

    eng = make_engine(store_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on ``engine``, closed after the test."""
    from service.storage.session import make_sessionmaker

    with make_sessionmaker(engine)() as sess:
        yield sess

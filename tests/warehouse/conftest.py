"""One demo warehouse (every dataset, synthetic, small) shared by the tests of what BI users see."""

import pytest

from dagster_project.demo import run_demo
from dagster_project.settings import Paths


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/warehouse/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("demo_warehouse"))


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Paths:
    p = Paths(tmp_path_factory.mktemp("demo") / "home")
    run_demo(weeks=6, scale=0.01, p=p)  # six weeks: the older ones have every tier published
    return p

"""The HTML report renders its charts in a real headless browser, offline."""

import re
import shutil
import subprocess

import pytest
from PIL import Image, ImageStat

from dagster_project.report import write_report

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(demo_home):
    return write_report(demo_home)


@pytest.fixture(scope="module")
def chromium():
    path = shutil.which("chromium")
    assert path, "chromium is required for the report test (`make test` installs Debian's chromium)"
    return path


def test_every_section_has_a_chart(report):
    html = report.read_text()
    assert "Not available" not in html, re.findall(r"Not available: ([^<]*)", html)
    assert int(re.search(r'data-charts="(\d+)"', html).group(1)) == 7
    for title in ("ATS venue share over time", "off-exchange trend", "GEX profile", "block market share"):
        assert title in html
    assert "http://" not in html and "https://" not in html  # loads nothing from the network


def test_charts_render_in_headless_chromium(report, chromium, tmp_path):
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-dom'}",
                          "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
                         capture_output=True, text=True, timeout=120)
    rendered = re.search(r'data-charts-rendered="(\d+)"', dom.stdout)
    assert rendered, dom.stderr[-2000:]
    assert int(rendered.group(1)) == 7  # every <img> decoded with a real width
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-shot'}", "--window-size=1100,2400",
                    f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=120, check=True)
    image = Image.open(shot).convert("L")
    assert image.size == (1100, 2400)
    # a page of charts has ink: many distinct grey levels and real contrast, not a blank page
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 20 and len(set(image.getdata())) > 50

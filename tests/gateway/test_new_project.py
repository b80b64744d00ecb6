"""A new project in one command: `copier copy --trust <checkout> DEST` (copier.yml, and its task
tools/new_project.py), with and without the logistics sample, and `copier update` after it.

The fast tests run tools/new_project.py on small trees. The slow ones (marker `slow`) generate
both variants from this checkout's files (committed or not: they are committed into a throwaway
template repository first, so a clean clone and a worktree with changes behave alike), then run
each generated project's own `make lint` and `make test` in its own virtualenv (pip's cache is
reused). NEW_PROJECT_PYTEST_ARGS adds pytest arguments to those runs (`make test PYTEST_ARGS=…`);
each variant prints how long copying, installing, linting and testing took.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.project_copy import REPO, copy_project
from tools import new_project

BIN = Path(sys.executable).parent
GIT = ["git", "-c", "user.name=Majestic tests", "-c", "user.email=tests@example.com"]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


# --- the script on small trees ------------------------------------------------------------------


def test_the_answers_rename_sources_bus_and_name_and_nothing_else(tmp_path):
    write(
        tmp_path,
        {
            "modules/shipping/__init__.py": "",
            "config/settings.py": 'PREFIX = env_str("EVENTS_SOURCE_PREFIX", "majestic")\n'
            'BUS = env_str("EVENTBRIDGE_BUS_NAME", "majestic-events")\n'
            'logger = logging.getLogger("majestic.graphql")\n',
            "events/catalog.json": '{"source": "majestic.shipping"}\n',
            "tests/test_patterns.py": 'P = [{"prefix": "majestic."}, {"wildcard": "majestic.*"}]\n',
            "README.md": "# Majestic\nMAJESTIC_X\n",
            "image.png": "",
        },
    )
    (tmp_path / "image.png").write_bytes(b"\x89PNG\xff\xfe majestic")
    new_project.rename(tmp_path, project_name="acme_co", prefix="acme", bus_name="acme-bus")
    assert (tmp_path / "config/settings.py").read_text() == (
        'PREFIX = env_str("EVENTS_SOURCE_PREFIX", "acme")\n'
        'BUS = env_str("EVENTBRIDGE_BUS_NAME", "acme-bus")\n'
        'logger = logging.getLogger("acme_co.graphql")\n'
    )
    assert (tmp_path / "events/catalog.json").read_text() == '{"source": "acme.shipping"}\n'
    assert (tmp_path / "tests/test_patterns.py").read_text() == (
        'P = [{"prefix": "acme."}, {"wildcard": "acme.*"}]\n'
    )
    assert (tmp_path / "README.md").read_text() == "# Acme Co\nACME_CO_X\n"
    assert (tmp_path / "image.png").read_bytes() == b"\x89PNG\xff\xfe majestic"


def test_without_the_sample_marked_lines_blocks_and_the_tests_that_use_it_go(tmp_path):
    write(
        tmp_path,
        {
            "modules/shipping/api.py": "",
            "modules/user/api.py": "",
            "config/settings.py": 'MODULES = [\n    "user",\n    "shipping",  # sample\n]\n'
            "# sample: begin\nSHIPPING_DAYS = 14\n# sample: end\nAFTER = 1\n",
            "infra/template.yaml": "A:\n  # sample: begin\n  B: 1\n  # sample: end\n  C: 2\n",
            "tests/user/test_users.py": "def test_users():\n    pass\n",
            "tests/user/test_mixed.py": "# sample: begin\nfrom tests.shipping import x\n"
            "# sample: end\ndef test_kept():\n    pass\n",
            "tests/gateway/test_lists.py": 'QUERY = "{ transports(first: 1) { totalCount } }"\n',
        },
    )
    removed, cut = new_project.remove_sample(tmp_path)
    assert {"modules/shipping", "tests/gateway/test_lists.py"} <= set(removed)
    assert not (tmp_path / "modules/shipping").exists()
    assert (tmp_path / "config/settings.py").read_text() == (
        'MODULES = [\n    "user",\n]\nAFTER = 1\n'
    )
    assert (tmp_path / "infra/template.yaml").read_text() == "A:\n  C: 2\n"
    assert (tmp_path / "tests/user/test_mixed.py").read_text() == "def test_kept():\n    pass\n"
    assert (tmp_path / "tests/user/test_users.py").exists()
    assert tmp_path / "tests/user/test_mixed.py" in cut
    # seed_demo was the sample's: the project gets one that seeds accounts only.
    seed = tmp_path / new_project.CORE_SEED_TARGET
    assert seed.read_text() == new_project.CORE_SEED.read_text()
    assert (seed.parent / "__init__.py").exists()
    # Idempotent: `copier update` runs the task again on a project without the sample.
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert new_project.remove_sample(tmp_path) == ([], [])
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_every_sample_path_the_script_names_exists_here():
    """The list cannot rot: a path renamed in the checkout would silently stay in new projects."""
    if "shipping" not in os.listdir(REPO / "modules"):
        pytest.skip("this project was generated without the sample")
    assert [p for p in new_project.SAMPLE_PATHS if not (REPO / p).exists()] == []


# --- generated projects -------------------------------------------------------------------------


def run(command: list[str], cwd: Path, timeout: float = 1800, **env: str) -> tuple[str, float]:
    """`command` in `cwd` on SQLite and in-memory channels; its output and how long it took."""
    environment = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", **env}
    for name in ("DJANGO_SETTINGS_MODULE", "PIP_NO_CACHE_DIR", "VIRTUAL_ENV", "MAKEFLAGS"):
        environment.pop(name, None)
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} in {cwd}:\n{output[-6000:]}"
    return output, time.monotonic() - started


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's files as a git repository of one commit: what `copier copy` reads."""
    if not (REPO / "copier.yml").exists():
        pytest.skip("a generated project is no template (copier.yml stays behind)")
    root = copy_project(tmp_path_factory.mktemp("template"))
    run(["git", "init", "--quiet"], root)
    run([*GIT, "add", "-A"], root)
    run([*GIT, "commit", "--quiet", "-m", "template"], root)
    return root


def copier_copy(template: Path, destination: Path, *, sample: bool) -> float:
    _, seconds = run(
        [
            str(BIN / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref=HEAD",
            "-d",
            "project_name=acme",
            "-d",
            "event_source_prefix=acme-co",
            "-d",
            "bus_name=acme-bus",
            "-d",
            f"sample_domain={str(sample).lower()}",
            str(template),
            str(destination),
        ],
        template.parent,
        timeout=600,
    )
    return seconds


# Which variants the slow tests generate: NEW_PROJECT_VARIANTS="sample,no-sample" (both, the
# default, as CI runs them) or one of them.
VARIANTS = os.environ.get("NEW_PROJECT_VARIANTS", "sample,no-sample").split(",")


@pytest.fixture(
    scope="module",
    params=[variant == "sample" for variant in VARIANTS],
    ids=VARIANTS,
)
def generated(request, template, tmp_path_factory) -> Iterator[dict[str, Any]]:
    sample: bool = request.param
    project = tmp_path_factory.mktemp("generated") / "acme"
    figures = {"copy": copier_copy(template, project, sample=sample)}
    yield {"project": project, "sample": sample, "figures": figures}
    # The figures the lead watches (CI's time): shown whatever pytest captures.
    variant = "with the sample" if sample else "without the sample"
    shown = ", ".join(
        f"{step} {value:.0f} s" if isinstance(value, float) else f"{step} {value}"
        for step, value in figures.items()
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"new project {variant}: {shown}")


@pytest.mark.slow
def test_the_new_project_is_renamed_and_has_what_was_asked(generated):
    project: Path = generated["project"]
    answers = (project / ".copier-answers.yml").read_text()
    assert "project_name: acme\n" in answers and "event_source_prefix: acme-co\n" in answers
    assert f"sample_domain: {str(generated['sample']).lower()}\n" in answers
    assert (project / ".git").is_dir(), "a repository of its own, as `copier update` needs"
    assert not (project / "copier.yml").exists()
    settings = (project / "config/settings.py").read_text()
    assert '"EVENTS_SOURCE_PREFIX", "acme-co"' in settings
    assert '"EVENTBRIDGE_BUS_NAME", "acme-bus"' in settings
    assert 'name = "acme"' in (project / "pyproject.toml").read_text()
    sources = set(re.findall(r'"source": "([^"]+)"', (project / "events/catalog.json").read_text()))
    kept = {"acme-co.auth", "acme-co.user"}
    shipped = {"acme-co.shipping", "acme-co.distribution"}
    assert sources == (kept | shipped if generated["sample"] else kept)
    assert ("type Transport " in (project / "schema.graphql").read_text()) is generated["sample"]
    assert (project / "modules/shipping").exists() is generated["sample"]
    assert (project / "infra/functions/distribution").exists() is generated["sample"]
    assert ("DistributionFunction" in (project / "infra/template.yaml").read_text()) is generated[
        "sample"
    ]


@pytest.mark.slow
def test_the_new_project_installs_and_passes_its_lint(generated):
    project: Path = generated["project"]
    # `make install` makes the project's own virtualenv; pip takes the wheels from its cache.
    _, generated["figures"]["install"] = run(["make", "install"], project)
    # The SAM CLI's own virtualenv (make lint-sam) is this checkout's, when it has one: the same
    # pinned version, and two minutes of installing saved.
    shared_sam = REPO / ".venv-sam"
    sam = [f"SAM_VENV={shared_sam}"] if (shared_sam / "bin" / "sam").exists() else []
    _, generated["figures"]["lint"] = run(["make", "lint", *sam], project)


@pytest.mark.slow
def test_the_new_project_names_its_demo_accounts_when_it_serves(generated):
    """`make run`'s last lines (config/devserver.py's banner) read the accounts from the project's
    own seed_demo: the sample's, or the accounts-only one a project without the sample gets. (The
    project's live tests, which start the server, are not run here: they are this checkout's.)"""
    project: Path = generated["project"]
    if not (project / ".venv/.installed").exists():
        pytest.skip("the project did not install (see the test before)")
    output, _ = run(
        [
            str(project / ".venv/bin/python"),
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
            "from config.devserver import banner; print(banner('127.0.0.1', 8000))",
        ],
        project,
    )
    assert "username demo-staff, password acme-demo" in output, output  # renamed with the project
    assert "phone +15550000001, code 123456 (signInWithCode)" in output, output


@pytest.mark.slow
def test_the_new_project_passes_its_tests(generated):
    project: Path = generated["project"]
    if not (project / ".venv/.installed").exists():
        pytest.skip("the project did not install (see the test before)")
    # Its own generation test (slow) would make projects again: it has no copier.yml anyway.
    extra = os.environ.get("NEW_PROJECT_PYTEST_ARGS", "")
    arguments = shlex.join(["-q", "-p", "no:cacheprovider", "-m", "not slow"]) + " " + extra
    output, generated["figures"]["tests"] = run(
        ["make", "test", f"PYTEST_ARGS={arguments}"], project, timeout=3600
    )
    # The summary line: threads still logging as the interpreter exits may print after it.
    summary = [line for line in output.splitlines() if re.search(r"\d+ passed", line)][-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))  # type: ignore[union-attr]
    generated["figures"]["passed"] = passed
    assert "failed" not in summary and "error" not in summary, summary
    print(f"\n{project.name} ({'sample' if generated['sample'] else 'no sample'}): {summary}")


@pytest.mark.slow
def test_copier_update_brings_a_template_change_and_keeps_the_answers(template, tmp_path):
    project = tmp_path / "acme"
    copier_copy(template, project, sample=False)
    run([*GIT, "add", "-A"], project)
    run([*GIT, "commit", "--quiet", "-m", "acme from majestic"], project)
    # The template moves on: a new document and a change to a file the project keeps.
    (template / "docs/upgrading.md").write_text("# Upgrading Majestic\n")
    readme = template / "README.md"
    readme.write_text(readme.read_text() + "\nUpdated upstream.\n")
    run([*GIT, "add", "-A"], template)
    run([*GIT, "commit", "--quiet", "-m", "template moves on"], template)
    try:
        run(
            [str(BIN / "copier"), "update", "--trust", "--defaults", "--vcs-ref=HEAD"],
            project,
            timeout=900,
        )
    finally:
        run([*GIT, "reset", "--quiet", "--hard", "HEAD~1"], template)
    assert (project / "docs/upgrading.md").read_text() == "# Upgrading Acme\n"
    assert (project / "README.md").read_text().endswith("\nUpdated upstream.\n")
    assert not (project / "modules/shipping").exists(), "the answers hold: still no sample"
    answers = (project / ".copier-answers.yml").read_text()
    assert "sample_domain: false\n" in answers

"""The command line's help stands on its own: a description, an example and defaults."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib

import pytest

from segmentation import RunConfig, __version__
from segmentation.cli import RUN_FILES, build_parser, main
from segmentation.prepare.features import PrepConfig
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # the command line's every command and option

COMMANDS = ("run", "aggregate", "inspect", "score", "compare", "predict", "history")
# The option kept only so older scripts run: listed nowhere, it must stay hidden.
HIDDEN = {("predict", "--model")}


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def help_of(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_the_commands_are_the_ones_documented_here():
    assert set(subparsers()) == set(COMMANDS)


def test_top_level_help_lists_every_command_with_examples(capsys):
    text = help_of([], capsys)
    assert "Examples:" in text and "--version" in text
    for command in COMMANDS:
        assert command in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_a_description_and_an_example_of_itself(command, capsys):
    text = help_of([command], capsys)
    parser = subparsers()[command]
    assert parser.description and len(parser.description) > 60
    assert "Example:" in text
    example = text.split("Example:", 1)[1]
    assert f"python -m segmentation {command} " in example


def option_help(text: str, option: str) -> str:
    """The help printed beside ``option`` (its lines joined), not its mention elsewhere."""
    blocks = re.split(r"\n(?=  -)", text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0])
    (block,) = [b for b in blocks if b.strip().split(" ", 1)[0].rstrip(",") == option]
    return " ".join(block.split())


def test_run_help_shows_the_engine_defaults_and_names_every_file_it_writes(capsys):
    raw = help_of(["run"], capsys)
    config, prep = RunConfig(), PrepConfig()
    for option, default in (("--k", "auto"), ("--k-min", config.k_min),
                            ("--k-max", config.k_max), ("--seed", config.random_state),
                            ("--n-init", config.n_init), ("--scaling", prep.scaling),
                            ("--outliers", prep.outliers), ("--missing", prep.missing)):
        assert option_help(raw, option).endswith(f"(default: {default})"), option
    text = " ".join(raw.split())  # wrapping aside
    for name in RUN_FILES:
        assert name in text
    assert "--signup" in text and "(default: None)" not in text and "(default: False)" \
        not in text


@pytest.mark.parametrize("command, words", [
    ("predict", ("--bundle", "run --signup", "Plan page", "--out")),
    ("score", ("model.json", "--out")),
    ("compare", ("migration_matrix.csv", "migration_percent.csv", "migration.json",
                 "movers.csv")),
    ("aggregate", ("--out", "Parquet")),
])
def test_each_command_names_what_it_reads_and_writes(command, words, capsys):
    text = " ".join(help_of([command], capsys).split())
    for word in words:
        assert word in text, word


def test_every_option_has_a_help_text():
    for command, parser in subparsers().items():
        for action in parser._actions:
            name = action.option_strings[-1] if action.option_strings else action.dest
            if (command, name) in HIDDEN:
                assert action.help == argparse.SUPPRESS
                continue
            assert action.help and action.help.strip() and action.help != argparse.SUPPRESS, \
                (command, name)


def test_the_hidden_alias_is_not_listed(capsys):
    text = help_of(["predict"], capsys)
    assert "--model" not in text


def test_version_prints_the_package_version():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert __version__ == declared
    done = subprocess.run([sys.executable, "-m", "segmentation", "--version"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"python -m segmentation {declared}"

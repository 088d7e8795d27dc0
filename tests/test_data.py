"""autograd_nn.data: datasets, loader, transforms, built-in datasets, the MNIST IDX reader."""

import gzip

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import data as D


def test_tensor_dataset_and_loader_batches_cover_every_item_once():
    x = np.arange(10, dtype=np.float64).reshape(10, 1)
    y = np.arange(10)
    loader = D.DataLoader(D.TensorDataset(x, y), batch_size=4, shuffle=True)
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, ag.Tensor) and xb.dtype == np.float32  # float64 data -> float32
        assert yb.dtype == np.int64
        seen.extend(yb.numpy().tolist())
    assert sorted(seen) == list(range(10)) and len(loader) == 3


def test_loader_drop_last_and_seeded_shuffle_is_repeatable():
    ds = D.TensorDataset(np.arange(10))
    assert len(D.DataLoader(ds, batch_size=4, drop_last=True)) == 2
    orders = []
    for _ in range(2):
        loader = D.DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(7))
        orders.append(next(iter(loader))[0].numpy().tolist())
    assert orders[0] == orders[1] and orders[0] != list(range(10))


def test_loader_with_custom_dataset_and_collate():
    class Squares(D.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.array([i, i * i], dtype=np.float32), "y": i}

    batches = list(D.DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 2) and batches[-1]["y"].shape == (1,)
    collated = list(D.DataLoader(Squares(), batch_size=5, collate_fn=lambda items: len(items)))
    assert collated == [5]


def test_random_split_fractions_and_counts():
    ds = D.TensorDataset(np.arange(10))
    a, b = D.random_split(ds, [0.7, 0.3], np.random.default_rng(0))
    assert len(a) == 7 and len(b) == 3
    assert sorted(list(a.indices) + list(b.indices)) == list(range(10))
    with pytest.raises(ValueError, match="add up"):
        D.random_split(ds, [3, 3])


def test_standardize_uses_training_statistics():
    train = np.array([[0.0], [2.0]])
    test = np.array([[4.0]])
    tr, te = D.standardize(train, test)
    np.testing.assert_allclose(tr.ravel(), [-1, 1], atol=1e-6)
    np.testing.assert_allclose(te.ravel(), [3], atol=1e-6)


def test_one_hot_and_its_errors():
    np.testing.assert_array_equal(D.one_hot([0, 2], 3), [[1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="one_hot"):
        D.one_hot([3], 3)


@pytest.mark.parametrize(
    "maker", [D.make_moons, D.make_circles, D.make_xor, D.make_spirals, D.make_gaussian_mixture]
)
def test_toy_datasets_are_deterministic(maker):
    x1, y1 = maker(seed=3)
    x2, y2 = maker(seed=3)
    assert x1.dtype == np.float32 and y1.dtype == np.int64 and x1.shape[1] == 2
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


def test_digits_split_is_fixed_and_stratified():
    pytest.importorskip("sklearn")
    d = D.load_digits()
    assert d["X_train"].shape[1:] == (1, 8, 8) and len(d["X_train"]) + len(d["X_test"]) == 1797
    assert np.bincount(d["y_test"]).min() >= 35
    assert d["X_train"].max() <= 1.0
    np.testing.assert_array_equal(D.load_digits()["y_test"], d["y_test"])


def test_char_corpus_round_trip_and_batches():
    corpus = D.CharCorpus(max_chars=20_000)
    assert corpus.decode(corpus.encode(corpus.text[:100])) == corpus.text[:100]
    x, y = corpus.batch(16, 4, rng=np.random.default_rng(0))
    assert x.shape == (4, 16)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert 1.0 < corpus.unigram_loss() < np.log(corpus.vocab_size)
    with pytest.raises(ValueError, match="vocabulary"):
        corpus.encode("\x00")


def test_stochastic_block_model_is_assortative():
    g = D.stochastic_block_model(seed=0)
    same = g.y[g.edges[:, 0]] == g.y[g.edges[:, 1]]
    assert same.mean() > 0.7
    assert not (g.train_mask & g.test_mask).any()
    a = g.normalized_adjacency()
    np.testing.assert_allclose(a, a.T)


def test_idx_reader_round_trips_and_rejects_bad_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    D.write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    D.write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    x, y = D.load_mnist(tmp_path)
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0] * 255, images)
    np.testing.assert_array_equal(y, labels)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")  # declares 9 bytes, holds 3
    with pytest.raises(ValueError, match="declares shape"):
        D.read_idx(bad)
    (tmp_path / "junk").write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        D.read_idx(tmp_path / "junk")
    with gzip.open(tmp_path / "trunc.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match="truncated"):
        D.read_idx(tmp_path / "trunc.gz")
